"""Letterboxd's export ZIP: read warily (corrupted, encrypted, bombs, too many members, archives
inside archives), only its top-level CSVs (or those of its one folder), merged into one row per
film. Every ZIP is built here, in memory. No database."""

from __future__ import annotations

import contextlib
import datetime
import gzip
import io
import random
import struct
import zipfile

import pytest

from media.imports import FormatError, Row, archive, detect, parse

BOM = "\ufeff"
HEAD = "Date,Name,Year,Letterboxd URI"
TIGER = '"Crouching Tiger, Hidden Dragon",2000'

# A realistic export: the five files, the others Letterboxd adds, and its folders.
EXPORT = {
    "profile.csv": "Date Joined,Username,Given Name\n2019-06-01,someone,Some\n",
    "watched.csv": (
        f"{BOM}{HEAD}\n"
        f"2020-01-05,{TIGER},https://boxd.it/hTha\n"
        '2020-02-01,"Paris, Texas",1984,https://boxd.it/1qRs\n'
    ),
    "ratings.csv": f"{BOM}{HEAD},Rating\n2021-03-01,{TIGER},https://boxd.it/hTha,4.5\n",
    "diary.csv": (
        f"{BOM}{HEAD},Rating,Rewatch,Tags,Watched Date\n"
        f'2020-01-05,{TIGER},https://boxd.it/d1,3.5,,"wuxia, fav",2020-01-04\n'
        f"2021-03-01,{TIGER},https://boxd.it/d2,4,Yes,,2021-02-28\n"
    ),
    "reviews.csv": (
        f"{BOM}{HEAD},Rating,Rewatch,Review,Tags,Watched Date\n"
        # The second diary entry, with another URI: matched by its date.
        f'2021-03-01,{TIGER},https://boxd.it/r2,4,Yes,"Better, the second time.",,2021-02-28\n'
    ),
    "watchlist.csv": (
        f"{BOM}{HEAD}\n2019-12-01,{TIGER},https://boxd.it/hTha\n2022-07-07,Heat,1995,https://boxd.it/2aHi\n"
    ),
    "comments.csv": "Date,Content,Comment\n",
    "likes/films.csv": f"{HEAD}\n2020-01-01,Liked Only,1999,https://boxd.it/x\n",
    "lists/best-of.csv": f"Letterboxd list export v7\n{HEAD}\n2020-01-01,Listed Only,1990,x\n",
    "deleted/diary.csv": f"{HEAD},Rating\n2020-01-01,Deleted,1990,x,junk\n",
    "orphaned/diary.csv": f"{HEAD},Rating\n2020-01-01,Orphaned,1990,x,junk\n",
}

TIGER_ROW = Row(
    kind="movie",
    title="Crouching Tiger, Hidden Dragon",
    year=2000,
    ids={},
    status="completed",
    progress={"watched": True},
    score=9,  # ratings.csv's 4.5 stars, not the diary's 4
    note="Better, the second time.",
    started=None,
    finished=None,
    watched_on=datetime.date(2021, 2, 28),  # the latest viewing
    rewatches=1,  # two diary viewings
    line=2,  # watched.csv line 2
    added=datetime.date(2019, 12, 1),  # put on the watchlist first
)


def make_zip(files: dict, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as packed:
        for name, content in files.items():
            packed.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(FormatError) as error:
        parse(data)
    return str(error.value)


def set_flag_and_size(data: bytes, name: str, flag: int = 0, size: int | None = None) -> bytes:
    """Change a member's general-purpose flags (in both headers) or the uncompressed size its
    central directory entry declares."""
    data = bytearray(data)
    encoded = name.encode()
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_length]) == encoded:
            struct.pack_into(
                "<H", data, local + 6, struct.unpack_from("<H", data, local + 6)[0] | flag
            )
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_length]) == encoded:
            flags = struct.unpack_from("<H", data, central + 8)[0]
            struct.pack_into("<H", data, central + 8, flags | flag)
            if size is not None:
                struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


# The export, merged.


def test_the_export_is_one_row_per_film_from_its_top_level_files():
    found = detect(make_zip(EXPORT))
    assert (found.name, found.label) == ("letterboxd_export", "Letterboxd export (ZIP)")
    tiger, paris, heat = found.rows()
    assert tiger == TIGER_ROW
    assert (paris.title, paris.status, paris.watched_on, paris.rewatches, paris.line) == (
        "Paris, Texas",
        "completed",
        datetime.date(2020, 2, 1),  # no diary entry: the day it was marked watched
        0,
        3,
    )
    assert heat == Row(
        kind="movie",
        title="Heat",
        year=1995,
        ids={},
        status="planned",  # on the watchlist only
        progress={},
        score=None,
        note="",
        started=None,
        finished=None,
        watched_on=None,
        rewatches=0,
        line=3,  # watchlist.csv line 3
        added=datetime.date(2022, 7, 7),
    )


def test_a_zip_whose_top_level_is_one_folder_is_read_the_same():
    folder = "letterboxd-someone-2024-01-01-12-00-utc/"
    files = {folder + name: content for name, content in EXPORT.items()}
    files["__MACOSX/" + folder + "._watched.csv"] = b"\x00\x05\x16\x07junk"  # macOS's litter
    assert parse(make_zip(files)) == parse(make_zip(EXPORT))


def test_member_names_are_matched_in_any_case_and_other_files_are_ignored():
    files = {"WATCHED.CSV": EXPORT["watched.csv"], "Ratings.csv": EXPORT["ratings.csv"]}
    files["nested.zip"] = make_zip({"watchlist.csv": EXPORT["watchlist.csv"]})  # not opened
    rows = parse(make_zip(files))
    assert [(r.title, r.score) for r in rows] == [
        ("Crouching Tiger, Hidden Dragon", 9),
        ("Paris, Texas", None),
    ]


@pytest.mark.parametrize("filename", ["", "letterboxd.zip", "diary.csv", "animelist.xml.gz"])
def test_the_zip_is_recognised_by_its_content_not_its_name(filename):
    assert detect(make_zip(EXPORT), filename).name == "letterboxd_export"


def test_stored_members_and_a_windows_1252_csv_are_read():
    files = {
        "watched.csv": (f"{HEAD}\n2020-01-01,Amélie,2001,https://boxd.it/f\n").encode("cp1252")
    }
    rows = parse(make_zip(files, method=zipfile.ZIP_STORED))
    assert [(r.title, r.year, r.watched_on) for r in rows] == [
        ("Amélie", 2001, datetime.date(2020, 1, 1))
    ]


def test_a_review_with_its_diary_entrys_uri_is_that_viewing():
    files = {
        "diary.csv": EXPORT["diary.csv"],
        "reviews.csv": (
            f"{HEAD},Rating,Rewatch,Review,Tags,Watched Date\n"
            f"2020-01-05,{TIGER},https://boxd.it/d1,3.5,,First time.,,2020-01-04\n"
            # A review of a viewing the diary does not have: a viewing of its own.
            f"2022-01-01,{TIGER},https://boxd.it/r9,5,Yes,Third time.,,2021-12-31\n"
        ),
    }
    (tiger,) = parse(make_zip(files))
    assert (tiger.rewatches, tiger.note, tiger.watched_on, tiger.score) == (
        2,
        "Third time.",
        datetime.date(2021, 12, 31),
        10,  # the latest rated viewing's, with no ratings.csv
    )


def test_junk_in_a_member_names_the_file_and_its_line():
    diary = EXPORT["diary.csv"] + f"2021-04-01,{TIGER},https://boxd.it/d3,4.3,,,2021-04-01\n"
    assert refused(make_zip({**EXPORT, "diary.csv": diary})) == (
        "diary.csv line 4: the rating “4.3” is not 0.5 to 5 stars in halves."
    )
    broken = f'{HEAD}\n2020-01-01,"Heat,1995,https://boxd.it/f\n'
    assert refused(make_zip({"watched.csv": broken})) == (
        "watched.csv line 2 is broken: unexpected end of data."
    )
    bad_date = f"{HEAD}\n2020-13-01,Heat,1995,https://boxd.it/f\n"
    assert refused(make_zip({"watchlist.csv": bad_date})) == (
        "watchlist.csv line 2: the date “2020-13-01” is not a date (YYYY-MM-DD)."
    )


def test_a_member_without_letterboxds_columns_is_refused():
    files = {"ratings.csv": EXPORT["watched.csv"]}  # no Rating column
    assert refused(make_zip(files)) == (
        "ratings.csv in this ZIP file is not Letterboxd's: its first line lacks the column Rating."
    )


def test_a_member_in_no_known_encoding_names_the_file():
    files = {"watched.csv": f"{HEAD}\n2020-01-01,Am".encode() + b"\x81lie,2001,x\n"}
    assert refused(make_zip(files)).startswith(
        "watched.csv in this ZIP file: Shelf cannot read this file's text"
    )


def test_empty_members_are_nothing_of_their_kind():
    watchlist = {"watchlist.csv": EXPORT["watchlist.csv"]}
    rows = parse(make_zip({"watched.csv": "", **watchlist}))
    assert rows == parse(make_zip(watchlist))
    assert [(r.title, r.status) for r in rows] == [
        ("Crouching Tiger, Hidden Dragon", "planned"),
        ("Heat", "planned"),
    ]


# ZIPs that are not Letterboxd's export.


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"readme.txt": "hello", "lists/best-of.csv": EXPORT["lists/best-of.csv"]},
        {"a/watched.csv": EXPORT["watched.csv"], "b/diary.csv": EXPORT["diary.csv"]},
        {"export/deeper/watched.csv": EXPORT["watched.csv"]},
    ],
)
def test_a_zip_without_letterboxds_files_says_what_was_looked_for(files):
    assert refused(make_zip(files)) == (
        "This ZIP file is not a Letterboxd export: Shelf looked for watched.csv, diary.csv, "
        "reviews.csv, ratings.csv and watchlist.csv at its top level (or in its one folder) "
        "and found none of them."
    )


def test_the_same_file_twice_is_refused():
    files = {"watched.csv": EXPORT["watched.csv"], "Watched.CSV": EXPORT["watched.csv"]}
    assert refused(make_zip(files)) == (
        "This ZIP file holds watched.csv more than once; Shelf cannot tell which to read."
    )


# Corrupted and hostile ZIPs.


def test_a_truncated_zip_is_refused():
    data = make_zip(EXPORT)
    for cut in (len(data) - 10, len(data) // 2, 30):
        assert refused(data[:cut]) == (
            "This ZIP file is corrupted and cannot be opened (its end is missing: was the "
            "download cut short?)."
        )


def test_a_flipped_byte_is_a_crc_error():
    data = bytearray(make_zip({"watched.csv": EXPORT["watched.csv"]}, zipfile.ZIP_STORED))
    at = data.find(b"Paris")
    data[at] ^= 0x20  # "paris": only the checksum can tell
    assert refused(bytes(data)) == (
        "This ZIP file is corrupted and cannot be opened (Bad CRC-32 for file 'watched.csv')."
    )


def test_any_flipped_byte_gives_rows_or_a_format_error():
    data = make_zip({"watched.csv": EXPORT["watched.csv"], "diary.csv": EXPORT["diary.csv"]})
    shuffle = random.Random(7)
    for at in range(len(data)):
        damaged = bytearray(data)
        damaged[at] ^= shuffle.randrange(1, 256)
        with contextlib.suppress(FormatError):  # anything else fails the test
            parse(bytes(damaged))


def test_a_zip_declaring_more_than_the_cap_is_not_read():
    data = make_zip({"watched.csv": EXPORT["watched.csv"]})
    lying = set_flag_and_size(data, "watched.csv", size=51 * 1024 * 1024)
    assert refused(lying) == (
        "This ZIP file says it unpacks to more than 50 MB, more than any list; "
        "Shelf does not open it."
    )


def test_a_member_inflating_past_the_cap_is_refused_whatever_its_header_says(monkeypatch):
    # The declared sizes pass (their cap is untouched); the bytes actually inflated do not.
    monkeypatch.setattr(archive, "MAX_READ", 100 * 1024)
    monkeypatch.setattr(archive, "CHUNK", 4096)
    bomb = make_zip({"watched.csv": HEAD.encode() + b"\n" + b"0" * (1024 * 1024)})
    assert len(bomb) < 5000
    assert refused(bomb) == (
        "This ZIP file unpacks to more than 102,400 bytes, more than any list; "
        "Shelf does not open it."
    )


def test_a_header_understating_its_size_is_caught_by_the_crc():
    data = make_zip({"watched.csv": EXPORT["watched.csv"]})
    assert refused(set_flag_and_size(data, "watched.csv", size=20)) == (
        "This ZIP file is corrupted and cannot be opened (Bad CRC-32 for file 'watched.csv')."
    )


def test_too_many_members_are_refused():
    files = {f"lists/{number}.csv": "" for number in range(1001)}
    assert refused(make_zip({**files, "watched.csv": EXPORT["watched.csv"]})) == (
        "This ZIP file holds more than 1,000 files, far more than a Letterboxd export; "
        "Shelf does not open it."
    )


def test_too_many_members_are_refused_when_the_end_record_says_fewer():
    data = bytearray(make_zip({f"lists/{number}.csv": "" for number in range(1001)}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 3, 3)  # "3 members", on this disk and in all
    assert refused(bytes(data)).startswith("This ZIP file holds more than 1,000 files")


def test_an_encrypted_member_is_refused():
    data = set_flag_and_size(make_zip(EXPORT), "diary.csv", flag=0x1)
    assert refused(data) == (
        "This ZIP file is password-protected (diary.csv): Shelf cannot open it. "
        "Upload the export as Letterboxd sent it."
    )


def test_a_member_that_is_an_archive_is_not_opened():
    inner = make_zip({"watched.csv": EXPORT["watched.csv"]})
    assert refused(make_zip({"watched.csv": inner})) == (
        "watched.csv in this ZIP file is itself an archive; Shelf does not open archives "
        "inside archives."
    )
    packed = gzip.compress(EXPORT["diary.csv"].encode())
    assert "diary.csv in this ZIP file is itself an archive" in refused(
        make_zip({"diary.csv": packed})
    )


def test_a_zip_inside_a_gzip_is_refused():
    assert refused(gzip.compress(make_zip(EXPORT))) == (
        "This is not a file Shelf can import: a ZIP inside a gzip."
    )


def test_bzip2_members_are_refused():
    data = make_zip({"watched.csv": EXPORT["watched.csv"]}, method=zipfile.ZIP_BZIP2)
    assert refused(data) == (
        "watched.csv in this ZIP file is compressed in a way Shelf does not open (method 12); "
        "Letterboxd's exports use the usual one (deflate)."
    )
