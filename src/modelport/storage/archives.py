"""Safe extraction of zip and tar archives: refuse the whole archive if any member could escape."""

from __future__ import annotations

import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from modelport.foundation.errors import UnsafeArtifactError

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 4 * 1024**3


def check_member_name(name: str) -> None:
    """Refuse absolute paths, drive letters, '..' parts and backslash tricks."""
    normalised = name.replace("\\", "/")
    parts = PurePosixPath(normalised).parts
    if (
        not name
        or normalised.startswith("/")
        or (len(normalised) > 1 and normalised[1] == ":")
        or ".." in parts
        or "\x00" in name
    ):
        raise UnsafeArtifactError(
            f"archive member {name!r} would be written outside the target folder; nothing was extracted"
        )


def extract(
    archive: Path, target: Path, *, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_TOTAL_BYTES
) -> list[Path]:
    """Check every member first, then extract into `target`; refuse the archive whole on any problem."""
    # is_zipfile looks for a zip directory near the END, so a tar whose last member is a zip passes it too
    if zipfile.is_zipfile(archive) and not _has_tar_header(archive):
        return _extract_zip(archive, target, max_members, max_bytes)
    if tarfile.is_tarfile(archive):
        return _extract_tar(archive, target, max_members, max_bytes)
    raise UnsafeArtifactError(f"{archive.name} is neither a zip nor a tar archive")


def _has_tar_header(archive: Path) -> bool:
    with archive.open("rb") as handle:
        return handle.read(512)[257:262] == b"ustar"


def _check_counts(count: int, total: int, max_members: int, max_bytes: int) -> None:
    if count > max_members:
        raise UnsafeArtifactError(
            f"archive has {count} members, more than the limit of {max_members}; nothing was extracted"
        )
    if total > max_bytes:
        raise UnsafeArtifactError(
            f"archive expands to {total} bytes, more than the limit of {max_bytes}; nothing was extracted"
        )


def _extract_zip(archive: Path, target: Path, max_members: int, max_bytes: int) -> list[Path]:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        _check_counts(len(infos), sum(i.file_size for i in infos), max_members, max_bytes)
        for info in infos:
            check_member_name(info.filename)
            # Zip writers often store only permission bits (no file type): that is a regular file.
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArtifactError(
                    f"archive member {info.filename!r} is a link or special file; nothing was extracted"
                )
        _staged(target, zf.extractall)  # every member was checked above
        return [target / i.filename for i in infos if not i.is_dir()]


def _extract_tar(archive: Path, target: Path, max_members: int, max_bytes: int) -> list[Path]:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        _check_counts(len(members), sum(m.size for m in members), max_members, max_bytes)
        for member in members:
            check_member_name(member.name)
            if not (member.isfile() or member.isdir()):
                raise UnsafeArtifactError(
                    f"archive member {member.name!r} is a link, device or other special file; nothing was extracted"
                )
        _staged(target, lambda staging: tf.extractall(staging, filter="data"))
        return [target / m.name for m in members if m.isfile()]


def _staged(target: Path, write: Callable[[Path], object]) -> None:
    """Extract into a sibling staging folder and move it into place only if all of it was written.

    Checks on names cannot foresee every failure (a file and a folder of the same name, a bad
    CRC, a full disk); staging keeps the promise that a refused archive leaves nothing behind.
    """
    if target.exists() and any(target.iterdir()):
        raise UnsafeArtifactError(f"the folder to extract into is not empty: {target.name}; nothing was extracted")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-partial-", dir=target.parent))
    try:
        write(staging)
    except (OSError, EOFError, ValueError, tarfile.TarError, zipfile.BadZipFile) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UnsafeArtifactError(
            f"the archive could not be extracted whole ({type(exc).__name__}); nothing was extracted") from None
    if target.exists():
        target.rmdir()
    staging.rename(target)
