"""Reading a ZIP from a person's upload, warily: a handful of named files at its top level.

The archive is untrusted. It is refused when it is corrupted (a bad CRC, a truncated file), when
a member is encrypted or compressed with anything but deflate (bzip2 and LZMA are refused: Python
inflates them without a bound before it checks a size), when it holds more than `MAX_MEMBERS`
entries, or when the sizes its headers declare add up to more than `MAX_DECLARED`. The members
that are read are inflated in small pieces and counted, so a header that lies about its size does
not get past `MAX_READ` either. Nothing is extracted to disk, and an archive inside the archive
is never opened.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from media.imports import GZIP_MAGIC, MAX_DECOMPRESSED, ZIP_MAGIC, FormatError

MAX_MEMBERS = 1000  # a Letterboxd export holds a few dozen files, one per list
MAX_DIRECTORY = MAX_MEMBERS * 1024  # the bytes of its central directory, the list of members
MAX_DECLARED = MAX_DECOMPRESSED  # the sizes all members say they inflate to, added up
MAX_READ = MAX_DECOMPRESSED  # the bytes actually inflated, whatever the headers say
CHUNK = 64 * 1024
METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
IGNORED_FOLDERS = {"__macosx"}  # what macOS's "Compress" adds beside the files

# Everything zipfile raises on a damaged archive, depending on where the damage is.
BROKEN = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError)


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _corrupted(error: Exception) -> FormatError:
    reason = str(error)
    if reason == "File is not a zip file":  # its central directory, at the end, is missing
        reason = "its end is missing: was the download cut short?"
    return FormatError(f"This ZIP file is corrupted and cannot be opened ({reason}).")


def _too_big() -> FormatError:
    return FormatError(
        f"This ZIP file unpacks to more than {_mb(MAX_READ)}, more than any list; "
        "Shelf does not open it."
    )


def _too_many() -> FormatError:
    return FormatError(
        f"This ZIP file holds more than {MAX_MEMBERS:,} files, far more than a Letterboxd "
        "export; Shelf does not open it."
    )


def _end_record(data: bytes) -> tuple[int, int]:
    """The member count and central directory size the end record declares (0, 0 when there
    is none: zipfile then says the archive is broken)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end == -1 or end + 22 > len(data):
        return 0, 0
    count, directory = struct.unpack_from("<HI", data, end + 10)
    return count, directory


def read_members(data: bytes, names: tuple[str, ...]) -> dict[str, bytes]:
    """The contents of the members called `names` (any case) at the archive's top level, or in
    its one top folder when the top level has none of them; {name: bytes}, names as given.
    Members in other folders are never read."""
    # zipfile reads the whole central directory before anyone can count it: look at its end
    # record first, then count what zipfile read (the record's count can lie).
    count, directory = _end_record(data)
    if count > MAX_MEMBERS or directory > MAX_DIRECTORY:
        raise _too_many()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except BROKEN as error:
        raise _corrupted(error) from None
    if len(infos) > MAX_MEMBERS:
        raise _too_many()
    if sum(info.file_size for info in infos) > MAX_DECLARED:
        raise FormatError(
            f"This ZIP file says it unpacks to more than {_mb(MAX_DECLARED)}, more than any "
            "list; Shelf does not open it."
        )
    encrypted = [info.filename for info in infos if info.flag_bits & 0x1]
    if encrypted:
        raise FormatError(
            f"This ZIP file is password-protected ({encrypted[0]}): Shelf cannot open it. "
            "Upload the export as Letterboxd sent it."
        )
    chosen = _choose(infos, names)
    members = {}
    budget = MAX_READ
    for name, info in chosen.items():
        if info.compress_type not in METHODS:
            raise FormatError(
                f"{name} in this ZIP file is compressed in a way Shelf does not open (method "
                f"{info.compress_type}); Letterboxd's exports use the usual one (deflate)."
            )
        content = _read(archive, info, budget)
        budget -= len(content)
        if content.startswith((ZIP_MAGIC, GZIP_MAGIC)):
            raise FormatError(
                f"{name} in this ZIP file is itself an archive; Shelf does not open archives "
                "inside archives."
            )
        members[name] = content
    return members


def _choose(infos: list[zipfile.ZipInfo], names: tuple[str, ...]) -> dict[str, zipfile.ZipInfo]:
    """The members to read: `names` at the top level, else in the archive's only folder."""
    wanted = {name.casefold(): name for name in names}
    by_path: dict[tuple[str, ...], list[zipfile.ZipInfo]] = {}
    folders = set()
    for info in infos:
        parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p not in ("", "."))
        if not parts or parts[0].casefold() in IGNORED_FOLDERS:
            continue
        if len(parts) > 1 or info.is_dir():
            folders.add(parts[0])
        if not info.is_dir():
            by_path.setdefault(tuple(p.casefold() for p in parts), []).append(info)

    def at(prefix: tuple[str, ...]) -> dict[str, zipfile.ZipInfo]:
        found = {}
        for key, name in wanted.items():
            matches = by_path.get((*prefix, key), [])
            if len(matches) > 1:
                raise FormatError(
                    f"This ZIP file holds {name} more than once; Shelf cannot tell which to read."
                )
            if matches:
                found[name] = matches[0]
        return found

    chosen = at(())
    if not chosen and len(folders) == 1:
        chosen = at((next(iter(folders)).casefold(),))
    return chosen


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """A member's bytes, inflated a piece at a time and refused past `budget` bytes."""
    pieces = []
    size = 0
    try:
        with archive.open(info) as member:
            while piece := member.read(CHUNK):
                size += len(piece)
                if size > budget:
                    raise _too_big()
                pieces.append(piece)
    except FormatError:
        raise  # too big (a FormatError is a ValueError, which BROKEN holds)
    except RuntimeError as error:  # encrypted, although its flag said otherwise
        raise FormatError(f"This ZIP file is password-protected ({error}).") from None
    except BROKEN as error:
        raise _corrupted(error) from None
    return b"".join(pieces)
