"""The import formats: each file people bring becomes normalised rows, recognised by its content,
with the quirks of real files (CDATA, 0000-00-00 dates, YES/NO and 0/1 flags, quoted commas,
BOMs, half stars) and every hostile or broken file refused with a message. No database."""

from __future__ import annotations

import datetime
import gzip
from pathlib import Path

import pytest

from media.imports import FormatError, Row, detect, parse

EXPORTS = Path(__file__).parent / "fixtures" / "exports"

MAL_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    "<!--\n Created by XML Export feature at MyAnimeList.net\n Version 1.1.0\n-->\n"
    "<myanimelist>\n"
)
LB_DIARY = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
LB_WATCHED = "Date,Name,Year,Letterboxd URI\n"
LB_RATINGS = "Date,Name,Year,Letterboxd URI,Rating\n"
IMDB_RATINGS = (
    "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,"
    "Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n"
)
IMDB_LIST = (
    "Position,Const,Created,Modified,Description,Title,Original Title,URL,Title Type,"
    "IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors,Your Rating,"
    "Date Rated\n"
)


def mal_anime(**fields) -> str:
    values = {
        "series_animedb_id": "1",
        "series_title": "<![CDATA[Cowboy Bebop]]>",
        "series_type": "TV",
        "series_episodes": "26",
        "my_watched_episodes": "26",
        "my_start_date": "2020-03-01",
        "my_finish_date": "2020-03-20",
        "my_score": "9",
        "my_status": "Completed",
        "my_comments": "",
        "my_times_watched": "0",
        "my_priority": "LOW",
        "my_rewatching": "0",
        "update_on_import": "1",
        **fields,
    }
    body = "".join(f"  <{tag}>{value}</{tag}>\n" for tag, value in values.items())
    return f"<anime>\n{body}</anime>\n"


def mal_manga(**fields) -> str:
    values = {
        "manga_mangadb_id": "2",
        "manga_title": "<![CDATA[Berserk]]>",
        "manga_volumes": "0",
        "manga_chapters": "0",
        "my_read_volumes": "5",
        "my_read_chapters": "40",
        "my_start_date": "2019-07-00",
        "my_finish_date": "0000-00-00",
        "my_score": "0",
        "my_status": "Reading",
        "my_comments": "",
        "my_times_read": "2",
        "my_priority": "HIGH",
        "my_rereading": "NO",
        "update_on_import": "0",
        **fields,
    }
    body = "".join(f"  <{tag}>{value}</{tag}>\n" for tag, value in values.items())
    return f"<manga>\n{body}</manga>\n"


def mal_file(*entries: str, export_type: str = "1") -> bytes:
    info = (
        f"<myinfo><user_id>1</user_id><user_export_type>{export_type}</user_export_type></myinfo>\n"
    )
    return (MAL_HEAD + info + "".join(entries) + "</myanimelist>\n").encode()


def refused(data: bytes, filename: str = "") -> str:
    with pytest.raises(FormatError) as error:
        parse(data, filename)
    return str(error.value)


# MyAnimeList: the specification's examples.


def test_mal_anime_spec_example():
    data = (EXPORTS / "mal_export_anime_SPEC_EXAMPLE.xml").read_bytes()
    assert detect(data).name == "mal_anime"
    assert parse(data) == [
        Row(
            kind="anime",
            title="Title",
            year=None,
            ids={"mal_id": 12345},
            status="in_progress",
            progress={"episode_progress": 12},
            score=10,
            note="Comments",
            started=datetime.date(2021, 1, 1),
            finished=None,
            watched_on=None,
            rewatches=1,
            line=14,
        )
    ]


def test_mal_manga_spec_example():
    data = (EXPORTS / "mal_export_manga_SPEC_EXAMPLE.xml").read_bytes()
    assert detect(data).name == "mal_manga"
    assert parse(data) == [
        Row(
            kind="manga",
            title="Title",
            year=None,
            ids={"mal_id": 12345},
            status="in_progress",
            progress={"chapter_progress": 123, "volume_progress": 12},
            score=10,
            note="Comments",
            started=datetime.date(2021, 1, 1),
            finished=None,
            watched_on=None,
            rewatches=1,
            line=14,
        )
    ]


# MyAnimeList: the quirks of real files.


def test_mal_real_export_header_cdata_scores_and_statuses():
    rows = parse(
        mal_file(
            mal_anime(),
            mal_anime(
                series_animedb_id="5",
                series_title='<![CDATA[Tom & Jerry <Special>, "quoted"]]>',
                my_status="Plan to Watch",
                my_score="0",
                my_watched_episodes="0",
                my_start_date="0000-00-00",
                my_finish_date="0000-00-00",
                my_comments="<![CDATA[see it, with friends]]>",
            ),
            mal_anime(series_animedb_id="6", my_status="On-Hold"),
            mal_anime(series_animedb_id="7", my_status="4"),  # a writer that uses numbers
        )
    )
    first, planned, on_hold, dropped = rows
    assert (first.title, first.ids, first.status, first.score) == (
        "Cowboy Bebop",
        {"mal_id": 1},
        "completed",
        9,
    )
    assert (first.started, first.finished) == (
        datetime.date(2020, 3, 1),
        datetime.date(2020, 3, 20),
    )
    assert first.progress == {"episode_progress": 26}
    assert first.line == 8  # after the comment and <myinfo>
    assert planned.title == 'Tom & Jerry <Special>, "quoted"'
    assert planned.note == "see it, with friends"
    assert (planned.status, planned.score, planned.started, planned.finished) == (
        "planned",
        None,
        None,
        None,
    )
    assert planned.progress == {"episode_progress": 0}
    assert (on_hold.status, dropped.status) == ("on_hold", "dropped")
    assert [row.line for row in rows] == [8, 24, 40, 56]


def test_mal_manga_flags_yes_no_partial_dates_and_reread_count():
    rows = parse(
        mal_file(
            mal_manga(),
            mal_manga(manga_mangadb_id="3", my_rereading="YES", my_status="", my_times_read="1"),
            export_type="2",
        )
    )
    reading, rereading = rows
    assert (reading.kind, reading.ids, reading.status) == ("manga", {"mal_id": 2}, "in_progress")
    assert reading.progress == {"chapter_progress": 40, "volume_progress": 5}
    assert (reading.score, reading.started, reading.finished) == (None, None, None)
    assert reading.rewatches == 2
    # Rereading with no status: it is being read again.
    assert (rereading.status, rereading.rewatches) == ("in_progress", 1)


def test_mal_rewatch_flag_zero_one_and_update_on_import_any_case():
    rows = parse(
        mal_file(
            mal_anime(my_rewatching="1", my_status="", my_times_watched="3"),
            mal_anime(series_animedb_id="9", my_rewatching="0", update_on_import="0"),
        )
    )
    assert [(row.status, row.rewatches) for row in rows] == [("in_progress", 3), ("completed", 0)]
    manga = parse(mal_file(mal_manga(my_rereading="no", update_on_import="yes"), export_type="2"))
    assert manga[0].status == "in_progress"


def test_mal_rewatch_flag_junk_is_refused_with_its_line():
    message = refused(mal_file(mal_anime(my_rewatching="maybe")))
    assert message == "Line 8: <my_rewatching> is “maybe”, not YES, NO, 1 or 0."


def test_mal_junk_values_are_refused_with_their_line():
    assert refused(mal_file(mal_anime(my_score="11"))) == (
        "Line 8: the score <my_score> 11 is not from 0 to 10."
    )
    assert refused(mal_file(mal_anime(my_status="Binging"))) == (
        "Line 8: “Binging” is not a MyAnimeList status."
    )
    assert refused(mal_file(mal_anime(my_start_date="2020-13-45"))) == (
        "Line 8: the start date “2020-13-45” is not a date (YYYY-MM-DD)."
    )
    assert refused(mal_file(mal_anime(series_animedb_id=""))) == (
        "Line 8: this anime has no MyAnimeList id <series_animedb_id>."
    )


def test_mal_empty_list_takes_its_kind_from_myinfo():
    assert detect(mal_file(export_type="2")).name == "mal_manga"
    assert detect(mal_file(export_type="1")).name == "mal_anime"
    assert parse(mal_file(export_type="2")) == []


def test_mal_duplicate_entry_is_skipped():
    rows = parse(mal_file(mal_anime(), mal_anime(my_score="3")))
    assert [(row.score, row.skip_reason) for row in rows] == [(9, ""), (3, "a duplicate of line 8")]


def test_mal_gzipped_as_myanimelist_sends_it():
    plain = mal_file(mal_anime())
    packed = gzip.compress(plain)
    found = detect(packed, "animelist_1700000000_123.xml.gz")
    assert (found.name, found.label) == ("mal_anime", "MyAnimeList anime list")
    assert parse(packed) == parse(plain)
    assert parse(packed)[0].title == "Cowboy Bebop"


# Hostile and broken XML, and gzip.


def test_billion_laughs_is_refused():
    lol = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]>\n'
        "<myanimelist><anime><series_title>&lol9;</series_title></anime></myanimelist>"
    ).encode()
    assert "declares a DTD or entities" in refused(data)


def test_external_entity_is_refused():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        b"<myanimelist><anime><series_animedb_id>1</series_animedb_id>"
        b"<series_title>&secret;</series_title></anime></myanimelist>"
    )
    message = refused(data)
    assert message.startswith("This XML file declares a DTD or entities")
    assert "root:" not in message


def test_external_dtd_is_refused():
    data = b'<?xml version="1.0"?>\n<!DOCTYPE myanimelist SYSTEM "http://evil.test/x.dtd">\n<myanimelist/>'
    assert "declares a DTD or entities" in refused(data)


def test_invalid_xml_says_where():
    data = mal_file(mal_anime()).replace(b"</series_type>", b"</series_typo>")
    assert refused(data) == "This XML file is broken at line 11, column 20: mismatched tag."


def test_other_xml_is_not_a_format():
    assert refused(b'<?xml version="1.0"?><rss><channel/></rss>') == (
        "This is not a file Shelf can import: it is XML, but not a MyAnimeList export "
        "(it starts with <rss>, not <myanimelist>)."
    )


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * (51 * 1024 * 1024))
    assert len(bomb) < 100_000
    assert refused(bomb, "animelist.xml.gz") == (
        "This gzip file unpacks to more than 50 MB, more than any list; Shelf does not open it."
    )


def test_corrupted_gzip_is_refused():
    truncated = gzip.compress(mal_file(mal_anime()))[:-10]
    assert refused(truncated).startswith("This gzip file is corrupted and cannot be opened")


# Letterboxd.


def test_letterboxd_diary_bom_quoted_commas_half_stars_rewatch():
    text = (
        "\ufeff"
        + LB_DIARY
        + '2021-01-03,"Crouching Tiger, Hidden Dragon",2000,https://boxd.it/a,4.5,Yes,'
        + '"wuxia, fav",2021-01-02\n'
        + "2021-02-10,Paris Texas,1984,https://boxd.it/b,0.5,,,\n"
        + "2021-02-11,Heat,1995,https://boxd.it/c,,,,2021-02-11\n"
    )
    found = detect(text.encode())
    assert found.name == "letterboxd_diary"
    tiger, paris, heat = found.rows()
    assert tiger == Row(
        kind="movie",
        title="Crouching Tiger, Hidden Dragon",
        year=2000,
        ids={},
        status="completed",
        progress={"watched": True},
        score=9,
        note="",
        started=None,
        finished=None,
        watched_on=datetime.date(2021, 1, 2),
        rewatches=1,
        line=2,
        added=datetime.date(2021, 1, 3),  # when it was logged
    )
    # No Watched Date: the logged Date it is.
    assert (paris.score, paris.watched_on, paris.rewatches) == (1, datetime.date(2021, 2, 10), 0)
    assert (heat.score, heat.watched_on, heat.line) == (None, datetime.date(2021, 2, 11), 4)


def test_letterboxd_ratings_five_stars_is_ten():
    rows = parse((LB_RATINGS + "2022-05-01,Alien,1979,https://boxd.it/d,5\n").encode())
    assert [(r.title, r.year, r.score, r.status) for r in rows] == [
        ("Alien", 1979, 10, "completed")
    ]


def test_letterboxd_rating_not_in_half_stars_is_refused():
    assert refused((LB_RATINGS + "2022-05-01,Alien,1979,https://boxd.it/d,4.3\n").encode()) == (
        "Line 2: the rating “4.3” is not 0.5 to 5 stars in halves."
    )


def test_letterboxd_watched_and_watchlist_share_columns_the_name_decides():
    body = (LB_WATCHED + "2023-03-04,Past Lives,2023,https://boxd.it/e\n").encode()
    watched = parse(body, "watched.csv")
    assert [(r.status, r.progress, r.watched_on) for r in watched] == [
        ("completed", {"watched": True}, datetime.date(2023, 3, 4))
    ]
    assert detect(body, "whatever.txt").name == "letterboxd_watched"
    watchlist = parse(body, "watchlist.csv")
    assert [(r.title, r.year, r.status, r.progress, r.watched_on) for r in watchlist] == [
        ("Past Lives", 2023, "planned", {}, None)
    ]


def test_letterboxd_diary_film_logged_on_several_days_is_one_row_with_its_rewatches():
    text = LB_DIARY + (
        "2021-01-01,Heat,1995,https://boxd.it/1,4,,,2021-01-01\n"
        "2021-06-02,Alien,1979,https://boxd.it/9,,,,2021-06-01\n"
        "2021-06-01,Heat,1995,https://boxd.it/2,5,Yes,,2021-06-01\n"
        "2021-06-01,Heat,1995,https://boxd.it/3,5,Yes,,2021-06-01\n"  # twice that day
        "2021-06-01,Heat,1995,https://boxd.it/3,5,Yes,,2021-06-01\n"  # the same entry again
    )
    rows = parse(text.encode())
    assert [
        (r.title, r.line, r.watched_on, r.rewatches, r.score, r.added, r.skip_reason) for r in rows
    ] == [
        ("Heat", 2, datetime.date(2021, 6, 1), 2, 10, datetime.date(2021, 1, 1), ""),
        ("Alien", 3, datetime.date(2021, 6, 1), 0, None, datetime.date(2021, 6, 2), ""),
    ]


def test_imdb_same_id_twice_is_a_duplicate_of_its_first_line():
    text = IMDB_RATINGS + (
        "tt0137523,9,2020-05-17,Fight Club,,https://x,movie,8.8,139,1999,,1,,\n"
        "tt0068646,8,2020-05-18,The Godfather,,https://x,movie,9.2,175,1972,,1,,\n"
        "tt0137523,7,2021-01-01,Fight Club,,https://x,movie,8.8,139,1999,,1,,\n"
    )
    rows = parse(text.encode())
    assert [(r.score, r.skip_reason) for r in rows] == [
        (9, ""),
        (8, ""),
        (7, "a duplicate of line 2"),
    ]


def test_windows_1252_csv_is_read():
    body = (LB_WATCHED + "2020-01-01,Amélie,2001,https://boxd.it/f\n").encode("cp1252")
    assert [r.title for r in parse(body)] == ["Amélie"]


# IMDb.


def test_imdb_ratings_keep_films_and_series_and_skip_episodes_with_reasons():
    text = IMDB_RATINGS + (
        "tt0137523,9,2020-05-17,Fight Club,Fight Club,https://www.imdb.com/title/tt0137523/,"
        'movie,8.8,139,1999,"Crime, Drama",2000000,1999-10-15,David Fincher\n'
        "tt0903747,10,2020-05-18,Breaking Bad,Breaking Bad,https://x,TV Series,9.5,49,2008,"
        "Drama,1,2008-01-20,\n"
        "tt2301451,10,2020-05-19,Ozymandias,Ozymandias,https://x,TV Episode,10,47,2013,Drama,1,"
        "2013-09-15,Rian Johnson\n"
        "68646,8,2021-01-01,The Godfather,,https://x,Movie,9.2,175,1972,Crime,1,1972-03-24,"
        "Francis Ford Coppola\n"
    )
    found = detect(("\ufeff" + text).encode())
    assert found.name == "imdb_ratings"
    fight, bad, ozymandias, godfather = found.rows()
    assert fight == Row(
        kind="movie",
        title="Fight Club",
        year=1999,
        ids={"imdb_id": "tt0137523"},
        status="completed",
        progress={"watched": True},
        score=9,
        note="",
        started=None,
        finished=None,
        watched_on=datetime.date(2020, 5, 17),
        rewatches=0,
        line=2,
    )
    # A series is a show: its score and the day it was rated, but a rating says nothing of
    # how far someone got, so no status and no progress.
    assert (bad.kind, bad.ids, bad.skip_reason) == ("show", {"imdb_id": "tt0903747"}, "")
    assert (bad.status, bad.progress, bad.score) == (None, {}, 10)
    assert (bad.added, bad.watched_on) == (datetime.date(2020, 5, 18), None)
    assert (ozymandias.skip_reason, ozymandias.line) == ("a TV episode", 4)
    # A Const that lost its `tt`; "Movie" in capitals.
    assert (godfather.ids, godfather.skip_reason) == ({"imdb_id": "tt0068646"}, "")


def test_imdb_watchlist_rows_are_planned():
    text = IMDB_LIST + (
        '1,tt0068646,2022-01-01,2022-01-01,"with dad, someday",The Godfather,The Godfather,'
        "https://x,Movie,9.2,175,1972,Crime,1,1972-03-24,Francis Ford Coppola,,\n"
        "2,tt0944947,2022-01-02,2022-01-02,,Game of Thrones,,https://x,tvSeries,9.2,57,2011,Drama,1,2011-04-17,,,\n"
    )
    found = detect(text.encode(), "ratings.csv")
    assert found.name == "imdb_list"
    godfather, thrones = found.rows()
    assert (godfather.status, godfather.progress, godfather.score, godfather.note) == (
        "planned",
        {},
        None,
        "with dad, someday",
    )
    assert (godfather.ids, godfather.year) == ({"imdb_id": "tt0068646"}, 1972)
    assert (thrones.kind, thrones.ids, thrones.skip_reason) == (
        "show",
        {"imdb_id": "tt0944947"},
        "",
    )
    assert (thrones.status, thrones.progress, thrones.added) == ("planned", {}, None)


def test_imdb_rating_out_of_range_is_refused():
    text = IMDB_RATINGS + "tt0137523,11,2020-05-17,Fight Club,,https://x,movie,8.8,139,1999,,1,,\n"
    assert refused(text.encode()) == "Line 2: the rating 11 is not from 1 to 10."


# Detection: the content decides, not the name.


@pytest.mark.parametrize("filename", ["", "export.csv", "diary.csv", "list.xml", "photo.jpg"])
def test_detection_ignores_the_filename(filename):
    assert detect(mal_file(mal_anime()), filename).name == "mal_anime"
    assert detect(gzip.compress(mal_file(export_type="2")), filename).name == "mal_manga"
    diary = (LB_DIARY + "2021-01-01,Heat,1995,https://boxd.it/1,4,,,2021-01-01\n").encode()
    assert detect(diary, filename).name == "letterboxd_diary"
    ratings = (LB_RATINGS + "2022-05-01,Alien,1979,https://boxd.it/d,5\n").encode()
    assert detect(ratings, filename).name == "letterboxd_ratings"
    assert detect(IMDB_RATINGS.encode(), filename).name == "imdb_ratings"
    assert detect(IMDB_LIST.encode(), filename).name == "imdb_list"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "This is not a file Shelf can import: it is empty."),
        (
            b"name,score\nHeat,9\n",
            "This is not a file Shelf can import: it is neither a MyAnimeList XML export nor a "
            "Letterboxd or IMDb CSV export (its first line has none of their columns).",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "This is not a file Shelf can import: it is not text.",
        ),
        (
            b"PK\x03\x04\x14\x00",
            "This ZIP file is corrupted and cannot be opened (its end is missing: was the "
            "download cut short?).",
        ),
    ],
)
def test_files_that_are_no_format_are_refused(data, message):
    assert refused(data, "animelist.xml") == message


def test_utf16_csv_with_its_bom_is_read():
    body = (LB_WATCHED + "2020-01-01,Amélie,2001,https://boxd.it/f\n").encode("utf-16")
    assert [(r.title, r.year) for r in parse(body)] == [("Amélie", 2001)]


def test_text_in_no_known_encoding_is_refused():
    # 0x81 is neither UTF-8 nor defined in Windows-1252.
    body = (LB_WATCHED + "2020-01-01,Am").encode() + b"\x81lie,2001,https://boxd.it/f\n"
    assert refused(body) == (
        "Shelf cannot read this file's text: it is neither UTF-8, UTF-16 nor Windows-1252. "
        "Save it again as UTF-8 and upload it again."
    )


def test_letterboxd_reviews_are_diary_rows_with_the_review_as_note():
    text = (
        LB_DIARY.rstrip("\n")
        + ",Review\n"
        + ('2021-01-03,Heat,1995,https://boxd.it/r,3.5,,,2021-01-02,"Long, and worth it."\n')
    )
    found = detect(text.encode(), "reviews.csv")
    assert found.name == "letterboxd_diary"
    assert [(r.score, r.note, r.watched_on) for r in found.rows()] == [
        (7, "Long, and worth it.", datetime.date(2021, 1, 2))
    ]


def test_a_broken_csv_row_says_its_line():
    text = LB_WATCHED + '2020-01-01,"Heat,1995,https://boxd.it/f\n'
    assert refused(text.encode()) == "Line 2 of this CSV file is broken: unexpected end of data."
