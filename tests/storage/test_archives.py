"""Safe archive extraction: any member that could escape refuses the whole archive, nothing extracted."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from modelport.foundation.errors import UnsafeArtifactError
from modelport.storage.archives import extract


def _tar(path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> Path:
    with tarfile.open(path, "w") as tf:
        for info in members:
            tf.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size if kind == tarfile.REGTYPE else 0, link
    return info


def test_a_clean_tar_is_extracted(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "ok.tar", [_member("model/weights.bin"), _member("model/code.py")])
    files = extract(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in files) == ["model/code.py", "model/weights.bin"]


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_member("../evil.py"), "outside the target folder"),
        (_member("/etc/cron.d/evil"), "outside the target folder"),
        (_member("a/../../evil"), "outside the target folder"),
        (_member("C:/windows/evil"), "outside the target folder"),
        (_member("..\\evil"), "outside the target folder"),
        (_member("link", tarfile.SYMTYPE, link="/etc/passwd"), "link, device or other special file"),
        (_member("hard", tarfile.LNKTYPE, link="model/weights.bin"), "link, device or other special file"),
        (_member("dev", tarfile.CHRTYPE), "link, device or other special file"),
        (_member("fifo", tarfile.FIFOTYPE), "link, device or other special file"),
    ],
)
def test_a_bad_tar_member_refuses_the_whole_archive(tmp_path: Path, member: tarfile.TarInfo, reason: str) -> None:
    archive = _tar(tmp_path / "bad.tar", [_member("model/first.bin"), member])
    with pytest.raises(UnsafeArtifactError, match=reason):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.py").exists()


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../evil.txt", "owned")
    with pytest.raises(UnsafeArtifactError, match="outside the target folder; nothing was extracted"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArtifactError, match="link or special file"):
        extract(archive, tmp_path / "out")


def test_limits_on_members_and_size(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "many.tar", [_member(f"f{i}") for i in range(5)])
    with pytest.raises(UnsafeArtifactError, match="5 members, more than the limit of 4"):
        extract(archive, tmp_path / "out", max_members=4)
    with pytest.raises(UnsafeArtifactError, match="expands to 5 bytes, more than the limit of 4"):
        extract(archive, tmp_path / "out", max_bytes=4)


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 10)
    with pytest.raises(UnsafeArtifactError, match="neither a zip nor a tar"):
        extract(junk, tmp_path / "out")
