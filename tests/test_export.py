"""Export: the page, and each download's content (Shelf JSON, CSV, MyAnimeList XML, gzipped
or not), streamed, only ever the requester's own; and each file read back by the importers
(`media.imports`) gives the saves it was made from.

The saves here set every tracking field their model has, whatever it is (`tracked_values`), so
fields added later (rewatches, started, finished…) are checked without a change here.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models.query import ModelIterable, QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import etree

from media import exports
from media.imports import parse
from media.kinds import KINDS
from media.models import Status

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = etree.XMLSchema(etree.parse(str(FIXTURES / "mal_export.xsd")))
# Text that tests every escape: markup, a CDATA end, quotes, commas, a line break, a control
# character XML cannot hold, accents, Japanese and an emoji.
NOTE = 'Ünïcode <b>&amp; "quoted", with ]]> inside\nand 日本語 🎌 \x01end'
LINKS = ("Shelf JSON", "CSV", "MyAnimeList XML (anime)", "MyAnimeList XML (manga)")
DOWNLOADS = (
    "/export/shelf.json",
    "/export/shelf.csv",
    "/export/anime.xml",
    "/export/manga.xml",
    "/export/anime.xml.gz",
    "/export/manga.xml.gz",
)


def tracked_values(kind, number: int = 0) -> dict:
    """A value other than the default for every tracking field of `kind`'s saved model."""
    values = {}
    for name in kind.saved_model.tracking_fields:
        field = kind.saved_model._meta.get_field(name)
        if name == "status":
            values[name] = Status.ON_HOLD if number % 2 else Status.IN_PROGRESS
        elif name == "score":
            values[name] = 1 + (number + 7) % 10
        elif name == "note":
            values[name] = f"{NOTE} {number}"
        elif isinstance(field, models.BooleanField):
            values[name] = True
        elif isinstance(field, models.DateField):
            values[name] = datetime.date(2024, 2, 1 + number % 28)
        elif isinstance(field, models.IntegerField):
            values[name] = 2  # below every demo total: progress, rewatches
        else:
            raise AssertionError(f"tracked_values does not know {name}'s field yet")
    return values


def save_all(user, items) -> dict:
    """One save of each kind's item for `user`, every tracking field set."""
    return {
        key: kind.saved_model.objects.create(
            user=user, **{kind.item_field: items[key]}, **tracked_values(kind)
        )
        for key, kind in KINDS.items()
    }


def body(response) -> bytes:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content)


def text(response) -> str:
    return body(response).decode("utf-8")


@pytest.fixture
def saves(user, items):
    return save_all(user, items)


@pytest.fixture
def others(other_user, db):
    """Another person's saves of other titles, with notes that must never leak."""
    found = {}
    for key, kind in KINDS.items():
        rows = kind.demo_rows()
        item = kind.item_model.objects.create(**rows[-1])
        found[key] = kind.saved_model.objects.create(
            user=other_user, **{kind.item_field: item}, note="GRACE'S SECRET"
        )
    return found


def as_json(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


# The page.


def test_export_page_links_each_format_with_its_count(auth_client, saves):
    page = auth_client.get("/export/").content.decode()
    for name in LINKS:
        assert f">{name}</a>" in page
    for kind in ("anime", "manga"):
        assert f">MyAnimeList XML ({kind}), gzipped</a>" in page
    for url in DOWNLOADS:
        assert f'href="{url}"' in page
    assert f"{len(KINDS)} saves" in page
    assert "left out" not in page  # every anime and manga here has its MyAnimeList id


def test_export_page_says_how_many_titles_a_mal_file_leaves_out_and_why(auth_client, saves):
    item = saves["anime"].item
    item.mal_id = None
    item.save()
    page = auth_client.get("/export/").content.decode()
    assert "1 saved anime title is left out: it has no MyAnimeList id" in page
    assert "0 saves" in page  # the anime file holds none


def test_the_header_links_to_export_for_a_signed_in_person(auth_client, client, db):
    assert 'href="/export/">Export</a>' in auth_client.get("/").content.decode()
    assert 'href="/export/"' not in client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/export/", *DOWNLOADS])
def test_anonymous_people_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_only_anime_and_manga_have_a_myanimelist_file(auth_client):
    assert auth_client.get("/export/movie.xml").status_code == 404
    assert auth_client.get("/export/nothing.xml.gz").status_code == 404


@pytest.mark.parametrize(
    ("url", "content_type", "suffix"),
    [
        ("/export/shelf.json", "application/json", ".json"),
        ("/export/shelf.csv", "text/csv; charset=utf-8", ".csv"),
        ("/export/anime.xml", "application/xml; charset=utf-8", "-anime.xml"),
        ("/export/manga.xml.gz", "application/gzip", "-manga.xml.gz"),
    ],
)
def test_downloads_are_attachments_named_for_the_person_and_day(
    auth_client, saves, url, content_type, suffix
):
    response = auth_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    today = datetime.date.today().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="shelf-ada-{today}{suffix}"'
    assert "no-store" in response["Cache-Control"]
    assert response.streaming
    body(response)


@pytest.mark.parametrize("url", DOWNLOADS)
def test_another_persons_saves_never_appear(auth_client, saves, others, url):
    content = body(auth_client.get(url))
    if url.endswith(".gz"):
        content = gzip.decompress(content)
    assert b"SECRET" not in content
    for save in others.values():
        assert save.item.title.encode() not in content


def test_a_person_without_saves_gets_empty_files(auth_client, others):
    document = json.loads(text(auth_client.get("/export/shelf.json")))
    assert document["saves"] == []
    lines = text(auth_client.get("/export/shelf.csv")).splitlines()
    assert len(lines) == 1  # the header
    for kind in ("anime", "manga"):
        xml = body(auth_client.get(f"/export/{kind}.xml"))
        SCHEMA.assertValid(etree.fromstring(xml))
        assert parse(xml) == []


# Shelf JSON.


def test_shelf_json_holds_every_save_with_its_ids_tracking_and_dates(auth_client, saves):
    document = json.loads(text(auth_client.get("/export/shelf.json")))
    assert (document["format"], document["version"]) == ("shelf", 1)
    datetime.datetime.fromisoformat(document["exported"])
    assert len(document["saves"]) == len(KINDS)
    for entry in document["saves"]:
        kind, save = KINDS[entry["kind"]], saves[entry["kind"]]
        item = save.item
        assert (entry["title"], entry["year"]) == (item.title, item.year)
        assert entry["ids"] == {
            name: getattr(item, name)
            for name in kind.item_model.external_id_fields
            if getattr(item, name) is not None
        }
        assert entry["tracking"] == {
            name: as_json(getattr(save, name)) for name in kind.saved_model.tracking_fields
        }
        assert datetime.datetime.fromisoformat(entry["saved"]) == save.created
        assert datetime.datetime.fromisoformat(entry["updated"]) == save.updated


def test_shelf_json_lists_saves_oldest_first_across_kinds(user, items):
    saves = save_all(user, items)
    keys = list(KINDS)
    for step, key in enumerate(reversed(keys)):  # the last kind saved first
        when = datetime.datetime(2020, 1, 1 + step, tzinfo=datetime.UTC)
        type(saves[key]).objects.filter(pk=saves[key].pk).update(created=when)
    entries = json.loads("".join(exports.shelf_json(user)))["saves"]
    assert [entry["kind"] for entry in entries] == keys[::-1]


# CSV.


def test_csv_has_one_row_per_save_under_every_kinds_columns(auth_client, saves):
    content = text(auth_client.get("/export/shelf.csv"))
    assert content.startswith("\ufeff")  # Excel then reads it as UTF-8
    assert "\r\n" in content
    reader = csv.DictReader(io.StringIO(content.removeprefix("\ufeff"), newline=""))
    id_columns, tracking_columns = exports.csv_columns()
    assert reader.fieldnames == [
        "kind", "title", "year", *id_columns, *tracking_columns, "saved", "updated"
    ]  # fmt: skip
    assert tracking_columns[:2] == ["status", "score"] and tracking_columns[-1] == "note"
    for kind in KINDS.values():  # every kind's ids and tracking fields have a column
        assert set(kind.item_model.external_id_fields) <= set(id_columns)
        assert set(kind.saved_model.tracking_fields) <= set(tracking_columns)
    rows = list(reader)
    assert len(rows) == len(KINDS)
    for row in rows:
        kind, save = KINDS[row["kind"]], saves[row["kind"]]
        assert (row["title"], row["year"]) == (save.item.title, str(save.item.year))
        for name in kind.saved_model.tracking_fields:
            assert row[name] == exports.csv_cell(getattr(save, name)), name
        for name in set(tracking_columns) - set(kind.saved_model.tracking_fields):
            assert row[name] == ""  # another kind's field
        assert row["note"].startswith(NOTE[:20])  # commas, quotes and line breaks intact
        assert datetime.datetime.fromisoformat(row["saved"]) == save.created


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_kept_as_text(user, items):
    saves = save_all(user, items)
    first = next(iter(saves.values()))
    type(first).objects.filter(pk=first.pk).update(note='=HYPERLINK("http://evil.test")')
    content = "".join(exports.shelf_csv(user))
    assert "'=HYPERLINK" in content
    assert exports.csv_cell(True) == "yes" and exports.csv_cell(None) == ""


# MyAnimeList XML.


def mal_rows(content: bytes):
    return {row.ids["mal_id"]: row for row in parse(content)}


@pytest.mark.parametrize("kind_key", ["anime", "manga"])
def test_mal_xml_is_valid_against_the_format(auth_client, saves, kind_key):
    content = body(auth_client.get(f"/export/{kind_key}.xml"))
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<!--\n Created by')
    document = etree.fromstring(content)
    SCHEMA.assertValid(document)
    [entry] = document.findall(kind_key)
    assert len(entry) == len({child.tag for child in entry})  # no element twice
    assert document.findtext("myinfo/user_name") == "ada"
    assert document.findtext("myinfo/user_export_type") == {"anime": "1", "manga": "2"}[kind_key]


def test_the_xsd_accepts_the_specifications_examples():
    for name in ("mal_export_anime_SPEC_EXAMPLE.xml", "mal_export_manga_SPEC_EXAMPLE.xml"):
        SCHEMA.assertValid(etree.parse(str(FIXTURES / "exports" / name)))


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("my_status", "Reading"),  # manga's word in an anime list
        ("my_score", "11"),
        ("my_start_date", "2024-1-5"),
        ("my_rewatching", "NO"),  # anime writes 0/1
        ("series_animedb_id", "0"),
    ],
)
def test_the_xsd_refuses_what_importers_refuse(user, items, tag, value):
    save_all(user, items)
    document = etree.fromstring("".join(exports.mal_xml(user, KINDS["anime"])).encode())
    document.find(f"anime/{tag}").text = value
    assert not SCHEMA.validate(document)


@pytest.mark.parametrize("kind_key", ["anime", "manga"])
def test_mal_xml_reads_back_as_rows_equal_to_the_saves(auth_client, saves, kind_key):
    kind, save = KINDS[kind_key], saves[kind_key]
    [row] = mal_rows(body(auth_client.get(f"/export/{kind_key}.xml"))).values()
    assert (row.kind, row.title, row.ids) == (
        kind_key,
        save.item.title,
        {"mal_id": save.item.mal_id},
    )
    assert (row.status, row.score) == (save.status, save.score)
    assert row.note == save.note.replace("\x01", "")  # what XML 1.0 cannot hold is left out
    assert row.progress == {
        counter.field: getattr(save, counter.field) for counter in kind.saved_model.counters
    }
    assert row.started == getattr(save, "started", None)
    assert row.finished == getattr(save, "finished", None)
    assert row.rewatches == getattr(save, "rewatches", 0)


def test_mal_xml_maps_every_status_and_writes_no_score_as_0(user, items):
    kind = KINDS["anime"]
    save = kind.saved_model.objects.create(user=user, anime=items["anime"])
    for status in Status.values:
        type(save).objects.filter(pk=save.pk).update(status=status)
        content = "".join(exports.mal_xml(user, kind)).encode()
        SCHEMA.assertValid(etree.fromstring(content))
        [row] = parse(content)
        assert (row.status, row.score) == (status, None)
        assert b"<my_score>0</my_score>" in content
        assert b"<my_start_date>0000-00-00</my_start_date>" in content


def test_mal_xml_escapes_titles_and_leaves_out_what_xml_cannot_hold(user, items):
    anime = items["anime"]
    anime.title = "A]]>B <C> & D\x0b\ufffe 🎌"
    anime.save()
    KINDS["anime"].saved_model.objects.create(user=user, anime=anime, note="]]>]]>")
    content = "".join(exports.mal_xml(user, KINDS["anime"])).encode()
    SCHEMA.assertValid(etree.fromstring(content))
    [row] = parse(content)
    assert (row.title, row.note) == ("A]]>B <C> & D 🎌", "]]>]]>")


def test_mal_xml_leaves_out_titles_without_a_mal_id_and_counts_what_it_holds(user, items):
    kind = KINDS["anime"]
    kept = kind.saved_model.objects.create(user=user, anime=items["anime"], status="completed")
    local = kind.item_model.objects.create(title="A title of our own", year=2020)
    kind.saved_model.objects.create(user=user, anime=local, status="completed")
    kind.saved_model.objects.create(
        user=user, anime=kind.item_model.objects.create(title="Another", mal_id=99)
    )
    document = etree.fromstring("".join(exports.mal_xml(user, kind)).encode())
    SCHEMA.assertValid(document)
    assert [e.findtext("series_title") for e in document.findall("anime")] == [
        kept.item.title, "Another"
    ]  # fmt: skip
    info = document.find("myinfo")
    assert info.findtext("user_total_anime") == "2"
    assert info.findtext("user_total_completed") == "1"
    assert info.findtext("user_total_plantowatch") == "1"
    assert exports.without_mal_id(user, kind) == {"completed": 1}


@pytest.mark.parametrize("kind_key", ["anime", "manga"])
def test_the_gzipped_mal_xml_gunzips_to_the_same_document(auth_client, saves, kind_key):
    plain = body(auth_client.get(f"/export/{kind_key}.xml"))
    packed = body(auth_client.get(f"/export/{kind_key}.xml.gz"))
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == plain
    assert parse(packed) == parse(plain)  # importers take it gzipped too


# Streaming, and flat in the number of saves.


@pytest.fixture
def many(user, items):
    """Forty saves of each kind (titles made from its first demo row), besides `items`."""
    for kind in KINDS.values():
        base = kind.demo_rows()[0]
        for number in range(40):
            row = base | {"title": f"{base['title']} {number}"}
            for name in kind.item_model.external_id_fields:
                row[name] = None
            if "mal_id" in kind.item_model.external_id_fields:
                row["mal_id"] = 10_000 + number
            item = kind.item_model.objects.create(**row)
            kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    return user


@pytest.mark.parametrize("url", DOWNLOADS)
def test_an_export_takes_as_many_queries_for_many_saves_as_for_few(url, user, items, many):
    few_person = get_user_model().objects.create_user("few")
    few = Client()
    few.force_login(few_person)
    save_all(few_person, items)
    lots = Client()
    lots.force_login(many)
    counts = []
    for client in (few, lots):
        with CaptureQueriesContext(connection) as queries:
            body(client.get(url))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_exports_read_saves_through_an_iterator_never_a_whole_list(monkeypatch, user, many):
    """A queryset evaluated as a whole (list(), len(), for on the queryset) keeps every row;
    `iterator()` does not go through `_fetch_all`."""
    saved_models = {kind.saved_model for kind in KINDS.values()}
    fetch_all = QuerySet._fetch_all

    def refuse_whole_lists(self):
        if self.model in saved_models and self._iterable_class is ModelIterable:
            raise AssertionError(f"{self.model.__name__} rows loaded as a whole list")
        return fetch_all(self)

    monkeypatch.setattr(QuerySet, "_fetch_all", refuse_whole_lists)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 7)
    assert len(json.loads("".join(exports.shelf_json(user)))["saves"]) == 40 * len(KINDS)
    assert "".join(exports.shelf_csv(user)).count("\r\n") == 40 * len(KINDS) + 1
    for key in exports.MAL_KINDS:
        assert len(parse("".join(exports.mal_xml(user, KINDS[key])).encode())) == 40


def test_a_response_comes_in_chunks_of_bounded_size(user, many):
    chunks = list(exports.buffered(exports.shelf_json(user), size=1000))
    assert len(chunks) > 5
    assert all(len(chunk) < 2000 for chunk in chunks)
    packed = list(exports.gzipped(iter(chunks)))
    assert gzip.decompress(b"".join(packed)).decode() == "".join(chunks)
