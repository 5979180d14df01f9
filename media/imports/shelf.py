"""Shelf JSON, as `media.exports.shelf_json` writes it: a file Shelf reads back as it was.

`{"format": "shelf", "version": 1, "exported": …, "saves": [entry, …]}`, each entry
`{"kind", "title", "year", "ids": {…}, "tracking": {field: value}, "saved", "updated"}`.
The kinds, their external ids and their tracking fields are the registry's (`media.kinds`),
so a new kind or tracking field is read without a change here. A tracking field this Shelf
does not know is ignored, so a file from a newer Shelf still imports what this one keeps.
Entries are numbered from 1 in messages and in `Row.line`.
"""

from __future__ import annotations

import datetime
import json

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from media.imports import STATUSES, Format, FormatError, Row
from media.kinds import KINDS
from media.models import NOTE_MAX_LENGTH, SCORE_MAX, SCORE_MIN

FORMAT, VERSION = "shelf", 1
# Tracking fields a Row names; every other tracking field of a kind is its progress.
ROW_FIELDS = ("status", "score", "note", "started", "finished", "watched_on", "rewatches")
COLUMN_RANGES = BaseDatabaseOperations.integer_field_ranges  # what PostgreSQL's columns hold


def detect(data: bytes) -> Format:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FormatError("This JSON file is not UTF-8 text; a Shelf export is.") from None
    except ValueError as error:  # json.JSONDecodeError
        raise FormatError(f"This JSON file is broken: {error}.") from None
    except RecursionError:
        raise FormatError("This JSON file is nested too deeply to be a Shelf export.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise FormatError(
            "This is not a file Shelf can import: it is JSON, but not a Shelf export "
            '(a Shelf export starts with {"format": "shelf", …}).'
        )
    version = document.get("version")
    if version != VERSION:
        raise FormatError(
            f"This Shelf export is version {version!r}; this Shelf reads version {VERSION}."
        )
    saves = document.get("saves")
    if not isinstance(saves, list):
        raise FormatError('This Shelf export has no list of "saves".')
    return Format(
        name="shelf",
        label="Shelf export",
        read=lambda: [_row(entry, number) for number, entry in enumerate(saves, start=1)],
    )


def _row(entry, number: int) -> Row:
    def refuse(problem: str):
        raise FormatError(f"Entry {number}: {problem}.")

    if not isinstance(entry, dict):
        refuse("it is not an object with a kind, a title and its tracking")
    kind = KINDS.get(entry.get("kind")) if isinstance(entry.get("kind"), str) else None
    if kind is None:
        refuse(f"the kind {entry.get('kind')!r} is none of {', '.join(KINDS)}")
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip() or "\x00" in title:
        refuse("it has no title")
    year = entry.get("year")
    if year is not None:
        year = _checked(kind.item_model, "year", year, refuse)
    ids = entry.get("ids", {})
    if not isinstance(ids, dict):
        refuse('its "ids" are not an object such as {"mal_id": 1}')
    for name, value in ids.items():
        if name not in kind.item_model.external_id_fields:
            known = ", ".join(kind.item_model.external_id_fields) or "none"
            refuse(f"a {kind.label_in_text} has no id “{name}” (its ids: {known})")
        _checked(kind.item_model, name, value, refuse)
    tracking = entry.get("tracking", {})
    if not isinstance(tracking, dict):
        refuse('its "tracking" is not an object')

    status = tracking.get("status")
    if status is not None and status not in STATUSES:
        refuse(f"the status {status!r} is none of {', '.join(STATUSES)}")
    score = tracking.get("score")
    if score is not None and (type(score) is not int or not SCORE_MIN <= score <= SCORE_MAX):
        refuse(f"the score {score!r} is not a whole number from {SCORE_MIN} to {SCORE_MAX}")
    note = tracking.get("note") or ""
    if not isinstance(note, str) or len(note) > NOTE_MAX_LENGTH or "\x00" in note:
        refuse(f"the note is not text of at most {NOTE_MAX_LENGTH} characters")
    rewatches = tracking.get("rewatches") or 0
    if type(rewatches) is not int or rewatches < 0:
        refuse(f"rewatches {rewatches!r} is not a whole number, 0 or more")
    progress = {
        field: _checked(kind.saved_model, field, tracking[field], refuse)
        for field in kind.saved_model.tracking_fields
        if field not in ROW_FIELDS and tracking.get(field) is not None
    }
    return Row(
        kind=kind.key,
        title=title.strip(),
        year=year,
        ids=dict(ids),
        status=status,
        progress=progress,
        score=score,
        note=note,
        started=_date(tracking.get("started"), "start date", refuse),
        finished=_date(tracking.get("finished"), "finish date", refuse),
        watched_on=_date(tracking.get("watched_on"), "watched date", refuse),
        rewatches=rewatches,
        line=number,
        added=_datetime(entry.get("saved"), refuse),
    )


def _checked(model, name: str, value, refuse):
    """`value` if it is one the model's field `name` takes (its type and validators), a
    number within its column on every database (SQLite's would take any 64-bit one), so a
    file reads the same wherever it is imported."""
    field = model._meta.get_field(name)
    if isinstance(field, models.BooleanField):
        ok = type(value) is bool
    elif isinstance(field, models.IntegerField):
        low, high = COLUMN_RANGES.get(field.get_internal_type(), (0, None))
        ok = type(value) is int and max(low, 0) <= value and (high is None or value <= high)
    elif isinstance(field, models.CharField):
        ok = isinstance(value, str)
    else:  # a kind of field this reader does not know: let its own checks decide
        ok = True
    try:
        if not ok:
            raise ValidationError("wrong type")
        field.run_validators(field.to_python(value))
    except ValidationError:
        refuse(f"the {field.verbose_name} {value!r} is not valid")
    return value


def _date(value, what: str, refuse) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        refuse(f"the {what} {value!r} is not a date (YYYY-MM-DD)")


def _datetime(value, refuse) -> datetime.datetime | None:
    """The time it was saved: ISO 8601, with its offset (one without is read as UTC)."""
    if value is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        refuse(f"the time saved {value!r} is not a date and time (ISO 8601)")
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
