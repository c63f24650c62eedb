"""Archive extraction under attack: slips, links, devices, bombs, collisions; nothing lands on refusal."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from modelport.foundation.errors import UnsafeArtifactError
from modelport.storage.archives import check_member_name, extract


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tf.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


SAFE = ("ok.txt", b"fine")


@pytest.mark.parametrize("name", [
    "../evil", "a/../../evil", "/tmp/modelport-evil-marker", "C:/evil", "C:evil", "c:\\evil", "..\\evil",
    "a\\..\\..\\evil", "\\\\server\\share\\evil", "a/\x00/evil", "", "//evil",
])
def test_bad_member_names(name: str) -> None:
    with pytest.raises(UnsafeArtifactError, match="outside the target folder"):
        check_member_name(name)


@pytest.mark.parametrize("name", ["model.skops", "dir/model.onnx", "a/b/c.txt", "x..y"])
def test_good_member_names(name: str) -> None:
    check_member_name(name)


@pytest.mark.parametrize("members", [
    [(_member("../evil"), b"x")],
    [(_member("/tmp/modelport-evil-marker"), b"x")],
    [(_member("link", tarfile.SYMTYPE, "/etc/passwd"), b"")],
    [(_member("link", tarfile.SYMTYPE, "../../evil"), b"")],
    [(_member("hard", tarfile.LNKTYPE, "/etc/passwd"), b"")],
    [(_member("hard", tarfile.LNKTYPE, "ok.txt"), b"")],
    [(_member("dev", tarfile.CHRTYPE), b"")],
    [(_member("blk", tarfile.BLKTYPE), b"")],
    [(_member("fifo", tarfile.FIFOTYPE), b"")],
    [(_member("dir", tarfile.DIRTYPE), b""), (_member("dir/../../evil"), b"x")],
    [(_member("C:\\evil"), b"x")],
])
def test_a_bad_tar_member_refuses_all_and_extracts_nothing(tmp_path: Path, members: list) -> None:
    archive = _tar(tmp_path / "m.tar", [(_member(SAFE[0]), SAFE[1]), *members])
    target = tmp_path / "a" / "out"
    (tmp_path / "a").mkdir()
    with pytest.raises(UnsafeArtifactError, match="nothing was extracted"):
        extract(archive, target)
    assert not target.exists()
    assert not (tmp_path / "evil").exists()


def test_link_followed_by_write_through_it_is_refused(tmp_path: Path) -> None:
    """The classic two-step: a symlink to outside, then a file written 'inside' it."""
    archive = _tar(tmp_path / "m.tar.gz", [(_member("out", tarfile.SYMTYPE, str(tmp_path)), b""),
                                           (_member("out/evil"), b"pwned")], mode="w:gz")
    with pytest.raises(UnsafeArtifactError, match="link"):
        extract(archive, tmp_path / "target")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "target").exists()


@pytest.mark.parametrize("members", [
    [("../evil", b"x")],
    [("/abs/evil", b"x")],
    [("a/../../evil", b"x")],
    [("..\\evil", b"x")],
    [("C:/evil", b"x")],
    [(_symlink_info("link"), b"/etc/passwd")],
])
def test_a_bad_zip_member_refuses_all_and_extracts_nothing(tmp_path: Path, members: list) -> None:
    archive = _zip(tmp_path / "m.zip", [SAFE, *members])
    with pytest.raises(UnsafeArtifactError, match="nothing was extracted"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil").exists()


def test_zip_device_mode_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("dev")
    info.external_attr = (stat.S_IFCHR | 0o600) << 16
    with pytest.raises(UnsafeArtifactError, match="link or special file"):
        extract(_zip(tmp_path / "m.zip", [(info, b"")]), tmp_path / "out")


def test_member_count_and_declared_size_limits(tmp_path: Path) -> None:
    many = _zip(tmp_path / "many.zip", [(f"f{i}", b"") for i in range(11)])
    with pytest.raises(UnsafeArtifactError, match="11 members, more than the limit of 10"):
        extract(many, tmp_path / "o1", max_members=10)
    bomb = _zip(tmp_path / "bomb.zip", [("zeros", b"\0" * 200_000)])
    assert bomb.stat().st_size < 2000  # deflated: the ratio is what makes it a bomb
    with pytest.raises(UnsafeArtifactError, match="expands to 200000 bytes"):
        extract(bomb, tmp_path / "o2", max_bytes=100_000)
    tar = _tar(tmp_path / "big.tar.gz", [(_member("zeros"), b"\0" * 200_000)], mode="w:gz")
    with pytest.raises(UnsafeArtifactError, match="expands to 200000 bytes"):
        extract(tar, tmp_path / "o3", max_bytes=100_000)
    assert not any((tmp_path / name).exists() for name in ("o1", "o2", "o3"))


def test_a_zip_lying_about_its_size_cannot_write_more(tmp_path: Path) -> None:
    """zipfile stops at the declared size and checks the CRC, so a forged header buys nothing."""
    archive = _zip(tmp_path / "m.zip", [("zeros", b"\0" * 50_000)])
    raw = bytearray(archive.read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    archive.write_bytes(bytes(raw))
    with pytest.raises(UnsafeArtifactError, match="could not be extracted whole"):
        extract(archive, tmp_path / "out", max_bytes=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.zip"]  # no staging folder left either


def test_name_collisions_refuse_and_leave_nothing(tmp_path: Path) -> None:
    """A file and a folder of the same name cannot both be written: refused whole, not half-extracted."""
    archive = _tar(tmp_path / "m.tar", [(_member("a"), b"file"), (_member("a/b"), b"under a file")])
    with pytest.raises(UnsafeArtifactError, match="could not be extracted whole"):
        extract(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tar"]


def test_a_clean_archive_extracts(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "m.zip", [SAFE, ("dir/model.bin", b"bytes")])
    files = extract(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in files) == ["dir/model.bin", "ok.txt"]


def test_a_non_empty_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    with pytest.raises(UnsafeArtifactError, match="not empty"):
        extract(_zip(tmp_path / "m.zip", [SAFE]), tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep"]


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not an archive")
    with pytest.raises(UnsafeArtifactError, match="neither a zip nor a tar"):
        extract(junk, tmp_path / "out")
