"""The Shelf JSON reader (`media.imports.shelf`): an export read back gives rows equal to the
saves it was made from, every tracking field included, and a broken or foreign file is refused
with a message naming the entry. (Importing the rows into an account is the import engine's.)"""

from __future__ import annotations

import datetime
import gzip
import json

import pytest

from media import exports
from media.imports import FormatError, detect, parse
from media.imports.shelf import ROW_FIELDS
from media.kinds import KINDS
from tests.test_export import body, save_all


@pytest.fixture
def saves(user, items):
    return save_all(user, items)


def tracking_of_row(row, name):
    """A tracking field's value as a Row holds it: a field of its own, or its progress."""
    return getattr(row, name) if name in ROW_FIELDS else row.progress.get(name)


def test_shelf_json_reads_back_as_rows_equal_to_the_saves(auth_client, saves):
    rows = parse(body(auth_client.get("/export/shelf.json")))
    assert [row.line for row in rows] == list(range(1, len(KINDS) + 1))
    for row in rows:
        kind, save = KINDS[row.kind], saves[row.kind]
        item = save.item
        assert (row.title, row.year, row.skip_reason) == (item.title, item.year, "")
        assert row.ids == exports.external_ids(item)
        assert row.added == save.created
        for name in kind.saved_model.tracking_fields:  # every one, whatever the kind has
            assert tracking_of_row(row, name) == getattr(save, name), name
        assert set(row.progress) <= set(kind.saved_model.tracking_fields)


def test_shelf_json_is_recognised_with_a_bom_or_gzipped(user, saves):
    data = "".join(exports.shelf_json(user)).encode()
    assert detect(b"\xef\xbb\xbf  \n" + data).name == "shelf"
    assert len(parse(gzip.compress(data))) == len(KINDS)


def shelf_file(*entries, **head) -> bytes:
    document = {"format": "shelf", "version": 1, "saves": list(entries), **head}
    return json.dumps(document).encode()


def entry(**changes) -> dict:
    base = {
        "kind": "anime",
        "title": "Cowboy Bebop",
        "year": 1998,
        "ids": {"mal_id": 1},
        "tracking": {"episode_progress": 3, "status": "in_progress", "score": 9, "note": ""},
        "saved": "2024-01-02T03:04:05+00:00",
    }
    tracking = changes.pop("tracking", {})
    return base | changes | {"tracking": base["tracking"] | tracking}


def test_a_minimal_shelf_entry_reads_with_defaults(db):
    [row] = parse(shelf_file({"kind": "anime", "title": "Akira"}))
    assert (row.kind, row.title, row.year, row.ids, row.status, row.score) == (
        "anime", "Akira", None, {}, None, None
    )  # fmt: skip
    assert (row.note, row.progress, row.rewatches, row.added, row.line) == ("", {}, 0, None, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"name": "a list"}', "JSON, but not a Shelf export"),
        (b'{"format": "shelf", "version": 1, "saves": [', "This JSON file is broken"),
        (b'{"format": "shelf", "version": 1, "saves": [] } \xff', "not UTF-8"),
        (shelf_file(version=2), "version 2"),
        (shelf_file(saves={"a": 1}), 'no list of "saves"'),
        (shelf_file(entry(), 12), "Entry 2: it is not an object"),
        (shelf_file(entry(kind="book")), "Entry 1: the kind 'book' is none of"),
        (shelf_file(entry(title="  ")), "Entry 1: it has no title"),
        (shelf_file(entry(year="1998")), "Entry 1: the year '1998' is not valid"),
        (shelf_file(entry(year=1492)), "Entry 1: the year 1492 is not valid"),
        (shelf_file(entry(ids=[1])), 'Entry 1: its "ids" are not an object'),
        (shelf_file(entry(ids={"tmdb_id": 5})), "Entry 1: a anime has no id “tmdb_id”"),
        (shelf_file(entry(ids={"mal_id": -1})), "Entry 1: the MyAnimeList id -1 is not valid"),
        (shelf_file(entry(tracking={"status": "watching"})), "the status 'watching' is none"),
        (shelf_file(entry(tracking={"score": 11})), "the score 11 is not a whole number"),
        (shelf_file(entry(tracking={"score": "8"})), "the score '8' is not a whole number"),
        (shelf_file(entry(tracking={"score": True})), "the score True is not a whole number"),
        (shelf_file(entry(tracking={"note": 5})), "the note is not text"),
        (shelf_file(entry(tracking={"note": "x" * 501})), "at most 500 characters"),
        (shelf_file(entry(tracking={"episode_progress": -2})), "episodes watched -2 is not"),
        (shelf_file(entry(tracking={"episode_progress": 1.5})), "episodes watched 1.5 is not"),
        (shelf_file(entry(tracking={"rewatches": "two"})), "rewatches 'two' is not"),
        (shelf_file(entry(tracking={"started": "2024-13-01"})), "start date '2024-13-01'"),
        (shelf_file(entry(tracking={"finished": 20240101})), "finish date 20240101 is not"),
        (shelf_file(entry(saved="yesterday")), "the time saved 'yesterday' is not"),
        (shelf_file(entry(), entry(), entry() | {"tracking": []}), 'Entry 3: its "tracking" is'),
    ],
)
def test_a_broken_shelf_file_is_refused_saying_where(db, data, message):
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse(data)


def test_a_movie_reads_watched_as_its_progress(db):
    movie = {
        "kind": "movie",
        "title": "Spirited Away",
        "ids": {"tmdb_id": 129, "imdb_id": "tt0245429"},
        "tracking": {"watched": True, "watched_on": "2024-05-06", "status": "completed"},
    }
    [row] = parse(shelf_file(movie))
    assert (row.progress, row.watched_on) == ({"watched": True}, datetime.date(2024, 5, 6))
    bad_imdb = movie | {"ids": {"imdb_id": "0245429"}}
    with pytest.raises(FormatError, match="Entry 1: the IMDb id '0245429' is not valid"):
        parse(shelf_file(bad_imdb))
