"""Bring a person's list in: match an upload's rows to the catalog, show what would change,
then apply all of it or nothing.

1. `start_import` reads the upload (`media.imports.detect`: a FormatError for the person if
   it is not a list Shelf reads), keeps its rows on an `Import` and queues `match_import`.
   A person has one open import at a time; a new upload replaces an unfinished preview.
2. `match_import` (in the worker) finds each row's title: by its external ids in the
   catalog, else at the kind's provider by those ids, else by the provider's search for its
   title and year, else in the catalog by its normalised title and year. A provider's title
   that the catalog lacks is kept as the provider's record and added only when the import
   is applied. Progress is saved as it goes, for the page's progress bar.
3. `build_plan` compares each matched row with what the person tracks and sorts it into a
   section: new, updated (each change, old and new, and whether it conflicts with something
   the person set), unchanged, unmatched, skipped. Nothing is written.
4. `apply_import` (in the worker) writes the plan in one transaction: the conflicts as the
   person chose once for the whole import (keep mine, or take the file's), everything else
   as the file says. Re-importing the same file finds everything unchanged.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from media.catalog import add_record, find_by_ids, local_namesake
from media.imports import FormatError, Row, detect
from media.kinds import KINDS, Kind
from media.models import (
    NOTE_MAX_LENGTH,
    REWATCHES_MAX,
    STATUS_LABELS,
    CatalogItem,
    Import,
    SavedItem,
    Status,
)
from media.providers import NotConfigured, NotFound, ProviderError, Record
from media.search import matching
from media.text import normalize

logger = logging.getLogger("shelf.imports")

MAX_UPLOAD = 20 * 1024 * 1024  # the largest file the import page takes
# An open import nobody has touched for this long is abandoned: its rows are dropped.
ABANDON_AFTER = datetime.timedelta(days=1)
# An import still being written after this long was lost (a worker that died or never ran):
# its transaction wrote nothing, so it is marked failed and the person can upload again.
LOST_AFTER = datetime.timedelta(hours=1)
# How long the worker waits on a provider for one row, retries included, in seconds.
ROW_BUDGET = 30.0
# A provider unavailable for this many rows in a row is down: the rest are not sent to it.
GIVE_UP_AFTER = 3
# How often matching saves its progress for the page: every this many rows, and after every
# row that may have asked a provider (those are the slow ones).
PROGRESS_EVERY = 200
# Rows written (or looked up) per statement.
BATCH = 500
# Imports jump the worker's queue ahead of the daily refresh: someone is watching the page.
PRIORITY = 10

SECTIONS = ("new", "updated", "unchanged", "unmatched", "skipped")
KEEP, TAKE = "keep", "take"  # the person's choice for conflicts


class Busy(Exception):
    """Another import of the person's is under way; the message says which."""

    APPLYING = (
        "Your previous import is being written to your list right now. Wait until it is "
        "done, then upload this file again."
    )
    RACE = "Another upload of yours started at the same moment: see your recent imports below."


# Rows on the Import, as JSON.


def row_to_json(row: Row) -> dict:
    data = asdict(row)
    for name in ("title", "note"):  # PostgreSQL's JSON holds no NUL character
        data[name] = data[name].replace("\x00", "")
    for name in ("started", "finished", "watched_on", "added"):
        if data[name] is not None:
            data[name] = data[name].isoformat()
    return data


def _date(value: str | None):
    if value is None:
        return None
    if "T" in value:
        return datetime.datetime.fromisoformat(value)
    return datetime.date.fromisoformat(value)


def row_from_json(data: dict) -> Row:
    values = {name: data[name] for name in Row.__dataclass_fields__}
    for name in ("started", "finished", "watched_on", "added"):
        values[name] = _date(values[name])
    return Row(**values)


# 1. Starting.


def abandon_stale(now: datetime.datetime | None = None) -> int:
    """Drop the rows of open imports untouched for a day (an upload nobody came back to), and
    fail those whose writing was lost (nothing of them was written); how many."""
    now = now or timezone.now()
    abandoned = Import.objects.filter(
        state__in=[Import.State.MATCHING, Import.State.READY], updated__lt=now - ABANDON_AFTER
    ).update(state=Import.State.CANCELLED, rows=[], error="Abandoned: not imported within a day.")
    lost = Import.objects.filter(state=Import.State.APPLYING, updated__lt=now - LOST_AFTER).update(
        state=Import.State.FAILED,
        rows=[],
        error="The import was not written within an hour, so nothing was imported. Your list "
        "is as it was; upload the file again.",
    )
    return abandoned + lost


def start_import(user, filename: str, data: bytes) -> Import:
    """Read an upload and open an import for it; FormatError if Shelf cannot read it, Busy
    if the person's previous import is being applied."""
    found = detect(data, filename)
    rows = found.rows()
    if not rows:
        raise FormatError(f"This {found.label} has no entries: there is nothing to import.")
    abandon_stale()
    try:
        with transaction.atomic():
            if Import.objects.filter(user=user, state=Import.State.APPLYING).exists():
                raise Busy(Busy.APPLYING)
            # An unfinished preview of an earlier upload is replaced by this one.
            Import.objects.filter(
                user=user, state__in=[Import.State.MATCHING, Import.State.READY]
            ).update(state=Import.State.CANCELLED, rows=[], error="Replaced by a newer upload.")
            imp = Import.objects.create(
                user=user,
                filename=filename[:200],
                format_label=found.label,
                rows=[row_to_json(row) for row in rows],
                total=len(rows),
            )
            # The database backend queues the task in this transaction: the worker cannot see
            # it before the import is committed, and a queue that fails leaves no import.
            match_import.using(priority=PRIORITY).enqueue(imp.pk)
    except IntegrityError:
        raise Busy(Busy.RACE) from None  # another upload of the same person won the race
    return imp


def cancel_import(imp: Import) -> bool:
    """Cancel an import not yet being applied; whether it was."""
    return bool(
        Import.objects.filter(
            pk=imp.pk, state__in=[Import.State.MATCHING, Import.State.READY]
        ).update(state=Import.State.CANCELLED, rows=[], error="Cancelled.")
    )


# 2. Matching.


@dataclass
class _Providers:
    """What the matching has learnt about each provider during one import."""

    down: dict = field(default_factory=dict)  # provider name: why it is not asked any more
    failures: dict = field(default_factory=lambda: defaultdict(int))

    def ask(self, kind: Kind, call):
        """`call(provider)`'s answer, or None (with the reason kept) when it cannot answer."""
        provider = kind.provider
        if provider.name in self.down or kind.key not in provider.kinds:
            return None  # down, or it does not describe this kind: the catalog answers alone
        try:
            answer = call(provider)
        except NotFound:
            return None
        except NotConfigured as error:
            self.down[provider.name] = f"{error.message}."
            return None
        except ProviderError as error:  # Unavailable, a refused answer, ...
            self.failures[provider.name] += 1
            if self.failures[provider.name] >= GIVE_UP_AFTER:
                self.down[provider.name] = (
                    f"{provider.name} could not be reached ({error.message})."
                )
            return None
        self.failures[provider.name] = 0
        return answer


def _by_ids(rows: list[dict]) -> dict[tuple[str, str, object], int]:
    """(kind, id field, value) -> catalog pk, for every external id in `rows`, in bulk."""
    wanted: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows:
        for name, value in row["ids"].items():
            wanted[(row["kind"], name)].add(value)
    found = {}
    for (kind_key, name), values in wanted.items():
        model = KINDS[kind_key].item_model
        if name not in model.external_id_fields:
            continue
        values = sorted(values)
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            for value, pk in model.objects.filter(**{f"{name}__in": chunk}).values_list(name, "pk"):
                found[(kind_key, name, value)] = pk
    return found


def _same_title(names, title: str, year, item_year) -> bool:
    wanted = normalize(title)
    return (
        bool(wanted)
        and (year is None or year == item_year)
        and any(normalize(name) == wanted for name in names)
    )


def _ids_agree(ids: dict, theirs: dict) -> bool:
    """Whether a candidate's ids leave it possible for a row's: none of them differs."""
    return all(theirs.get(name) in (None, "", value) for name, value in ids.items())


def _local_by_title(kind: Kind, row: dict) -> CatalogItem | None:
    """The catalog title with the row's name (any of its names, normalised) and year, whose
    ids do not contradict the row's."""
    candidates = matching(kind, row["title"])
    if row["year"] is not None:
        candidates = candidates.filter(year=row["year"])
    for item in candidates[:50]:
        theirs = {name: getattr(item, name) for name in item.external_id_fields}
        if _same_title(
            [item.title, *item.alt_titles], row["title"], row["year"], item.year
        ) and _ids_agree(row["ids"], theirs):
            return item
    return None


def _by_title_allowed(row: dict) -> bool:
    """A row is matched by its title only with a year, or when it has no ids at all: a
    MyAnimeList entry whose id is not found is not given a namesake of another year."""
    return bool(row["title"]) and (row["year"] is not None or not row["ids"])


def _at_provider(kind: Kind, row: dict, providers: _Providers) -> Record | None:
    """The provider's record for a row: by its ids, else by its title and year."""
    ids = row["ids"]
    record = None
    provider_field = kind.item_model.provider_id_field
    described = ids.get(provider_field) is not None  # asked for the title's own record
    if described:
        record = providers.ask(
            kind, lambda p: p.fetch(kind.key, ids[provider_field], budget=ROW_BUDGET)
        )
    elif ids.get("imdb_id") and hasattr(kind.provider, "find_imdb"):
        record = providers.ask(
            kind, lambda p: p.find_imdb(ids["imdb_id"], kind_key=kind.key, budget=ROW_BUDGET)
        )
    if record is None and _by_title_allowed(row):
        described = False
        found = providers.ask(kind, lambda p: p.search(kind.key, row["title"], budget=ROW_BUDGET))
        for candidate in found or ():
            names = [candidate.title, *candidate.alt_titles]
            if _same_title(names, row["title"], row["year"], candidate.year) and _ids_agree(
                row["ids"], candidate.ids
            ):
                record = candidate
                break
    if record is not None and not described and not record_has_totals(record):
        # A look-up by IMDb id or by title answers a search result's fields: the title's own
        # record adds its totals (a show's seasons) and its release status.
        found_id = record.provider_id
        detailed = providers.ask(kind, lambda p: p.fetch(kind.key, found_id, budget=ROW_BUDGET))
        if detailed is None:
            return None  # not without its totals: the row says why, and can be found by hand
        record = replace(detailed, ids={**record.ids, **detailed.ids})
    return record


def record_has_totals(record: Record) -> bool:
    """Whether a provider's record knows any of its title's totals."""
    return any(value not in (None, "", []) for value in record.totals.values())


def matched_record(kind: Kind, record: Record, *, picked: bool = False) -> dict:
    """A provider's title as a row's match: the catalog's row for it when there is one (by
    its ids, or the local namesake its ids would join), else the record, added on import."""
    item = find_by_ids(kind, record) or local_namesake(kind, record)
    match = {"item": item.pk} if item is not None else {"record": asdict(record)}
    return match | ({"picked": True} if picked else {})


def _match_one(row: dict, known: dict, providers: _Providers) -> dict:
    """The match of one row: {"item": pk}, {"record": {...}} or {"unmatched": why}."""
    kind = KINDS[row["kind"]]
    for name, value in row["ids"].items():
        pk = known.get((row["kind"], name, value))
        if pk is not None:
            return {"item": pk}
    record = _at_provider(kind, row, providers)
    if record is not None:
        return matched_record(kind, record)
    item = _local_by_title(kind, row) if _by_title_allowed(row) else None
    if item is not None:
        return {"item": item.pk}
    why = providers.down.get(kind.provider.name)
    if why is None:
        place, what = kind.provider.name, kind.label_in_text
        if row["ids"] and not _by_title_allowed(row):
            ids = ", ".join(f"{name} {value}" for name, value in row["ids"].items())
            why = f"Neither {place} nor this Shelf has the {what} with this id ({ids})."
        else:
            year = f" from {row['year']}" if row["year"] else ""
            why = f"Neither {place} nor this Shelf has a {what} called this{year}."
    return {"unmatched": why}


def _save_progress(imp_pk: int, done: int) -> bool:
    """Record how far matching is; False once the import is no longer matching."""
    return bool(
        Import.objects.filter(pk=imp_pk, state=Import.State.MATCHING).update(
            matched=done, updated=timezone.now()
        )
    )


@task()
def match_import(import_id: int) -> dict:
    """Match an import's rows to catalog titles, then leave it ready for its preview. Should
    anything unforeseen fail, the import fails with a message instead of matching forever."""
    imp = Import.objects.filter(pk=import_id, state=Import.State.MATCHING).first()
    if imp is None:
        return {"matched": 0}
    try:
        return _match_rows(imp)
    except Exception:
        logger.exception("Import %s: matching failed", import_id)
        Import.objects.filter(pk=import_id, state=Import.State.MATCHING).update(
            state=Import.State.FAILED,
            rows=[],
            error=(
                "Something went wrong while finding the titles, so nothing was imported. "
                "Your list is as it was; upload the file again to retry."
            ),
            updated=timezone.now(),
        )
        return {"failed": True}


def _match_rows(imp: Import) -> dict:
    rows = imp.rows
    todo = [row for row in rows if not row["skip_reason"] and "match" not in row]
    known = _by_ids(todo)
    providers = _Providers()
    done = len(rows) - len(todo)
    for row in todo:
        row["match"] = _match_one(row, known, providers)
        done += 1
        # A row found by its ids cost one query for all; any other may have asked a provider.
        found_at_once = any((row["kind"], n, v) in known for n, v in row["ids"].items())
        if (done % PROGRESS_EVERY == 0 or not found_at_once) and not _save_progress(imp.pk, done):
            return {"matched": done, "cancelled": True}
    finished = Import.objects.filter(pk=imp.pk, state=Import.State.MATCHING).update(
        rows=rows, matched=len(rows), state=Import.State.READY, updated=timezone.now()
    )
    unmatched = sum(1 for row in rows if "unmatched" in row.get("match", {}))
    logger.info("Import %s matched: %s rows, %s unmatched", imp.pk, len(rows), unmatched)
    return {"matched": len(rows), "unmatched": unmatched, "cancelled": not finished}


def pick(imp: Import, index: int, *, item: CatalogItem | None = None, record=None) -> bool:
    """The person's own match for an unmatched row (a catalog title or a provider's record),
    or, with neither, their choice to skip it. False if the import is no longer ready."""
    with transaction.atomic():
        imp = Import.objects.select_for_update().filter(pk=imp.pk).first()
        if imp is None or imp.state != Import.State.READY or not 0 <= index < len(imp.rows):
            return False
        row = imp.rows[index]
        if item is not None:
            row["match"] = {"item": item.pk, "picked": True}
        elif record is not None:
            row["match"] = matched_record(KINDS[row["kind"]], record, picked=True)
        else:
            row["match"] = {"skipped": "You chose to skip it."}
        imp.save(update_fields=["rows", "updated"])
    return True


# 3. The plan.


@dataclass
class Change:
    field: str
    label: str
    old: object
    new: object
    conflict: bool  # the person had set something else


@dataclass
class Entry:
    index: int  # the row's place in Import.rows
    row: Row
    section: str
    kind: Kind
    item: CatalogItem | None = None
    record: dict | None = None  # a provider's title the catalog lacks (added on apply)
    saved: SavedItem | None = None
    values: dict = field(default_factory=dict)  # what the file says, in the saved model's fields
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # caps and adjustments, said plainly
    reason: str = ""  # why it is unmatched or skipped

    @property
    def title(self) -> str:
        if self.item is not None:
            return self.item.title
        if self.record is not None:
            return self.record["title"]
        return self.row.title or "(no title)"

    @property
    def year(self):
        if self.item is not None:
            return self.item.year
        if self.record is not None:
            return self.record["year"]
        return self.row.year

    @property
    def conflicts(self) -> list[Change]:
        return [change for change in self.changes if change.conflict]

    @property
    def in_words(self) -> list[str]:
        """What the file says of it, for the preview: "Status: Completed", "Score: 9"."""
        model = self.kind.saved_model
        return [
            f"{_label(model, name).capitalize()}: {_shown(name, value)}"
            for name, value in self.values.items()
            if name != "note"
        ] + (["with a note"] if self.values.get("note") else [])

    def changes_for(self, choice: str) -> list[Change]:
        return [c for c in self.changes if not c.conflict or choice == TAKE]


@dataclass
class Plan:
    entries: list[Entry]

    def section(self, name: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.section == name]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SECTIONS, 0)
        for entry in self.entries:
            counts[entry.section] += 1
        return counts

    @property
    def conflicts(self) -> int:
        return sum(1 for entry in self.entries if entry.conflicts)

    @property
    def capped(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.notes]


def _fields(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def file_values(kind: Kind, row: Row, item) -> tuple[dict, list[str]]:
    """What the file says of a title, in the kind's saved model's fields, within what the
    catalog allows: (values, notes on what had to be adjusted). A value the file does not
    give is left out, so it never erases what the person tracks."""
    model = kind.saved_model
    names = _fields(model)
    values: dict = {}
    notes: list[str] = []
    status = row.status
    row = _without_future_dates(row, notes)
    given = dict(row.progress)
    if row.watched_on is not None:
        given["watched_on"] = row.watched_on  # the day it was watched goes with the progress
    progress, capped = model.file_progress(item, given, status == Status.COMPLETED)
    values |= progress
    notes += capped
    if progress and status != Status.COMPLETED:
        # Its progress sets the status as the tracking panel would (SavedItem.reconcile).
        save = model(**{kind.item_field: item}, **progress)
        if save.at_end and status in (None, Status.PLANNED, Status.IN_PROGRESS):
            status = Status.COMPLETED
        elif status in (None, Status.PLANNED) and (
            save.progress or any(progress.get(counter.field) for counter in model.counters)
        ):  # any count started (a manga's volumes, say) has begun it
            status = Status.IN_PROGRESS
    if status is not None:
        values["status"] = status
    if row.score is not None:
        values["score"] = row.score
    if row.note:
        note = row.note
        if len(note) > NOTE_MAX_LENGTH:
            notes.append(
                f"Note shortened to {NOTE_MAX_LENGTH} characters (the file's has {len(note)})."
            )
            note = note[:NOTE_MAX_LENGTH]
        values["note"] = note
    if "started" in names and row.started is not None:
        values["started"] = row.started
    if "finished" in names and row.finished is not None:
        if row.started is not None and row.finished < row.started:
            notes.append("The finish date is before the start date: both left out.")
            values.pop("started", None)
        else:
            values["finished"] = row.finished
    if "rewatches" in names and row.rewatches:
        if row.rewatches > REWATCHES_MAX:
            notes.append(f"Rewatches capped at {REWATCHES_MAX} (the file says {row.rewatches}).")
        values["rewatches"] = min(row.rewatches, REWATCHES_MAX)
    return values, notes


def _without_future_dates(row: Row, notes: list[str]) -> Row:
    """The row without dates after today, which the tracking panel would refuse (a clock or a
    time zone ahead of this server's), each listed."""
    today = timezone.localdate()
    future = {
        name: None
        for name in ("started", "finished", "watched_on")
        if getattr(row, name) is not None and getattr(row, name) > today
    }
    for name in future:
        notes.append(
            f"The {name.replace('_', ' ')} date {getattr(row, name)} is in the future: left out."
        )
    return replace(row, **future) if future else row


def _empty(name: str, value) -> bool:
    """Whether a tracking value is one the person has not set (a default)."""
    return value in (None, "", 0, False) or (name == "status" and value == Status.PLANNED)


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _groups(model) -> list[set[str]]:
    """Fields that only make sense together: a conflict in one is a conflict in all, so that
    "keep mine" never keeps a status beside the file's progress, or one date of two."""
    return [{"status", *model.progress_fields()}, {"started", "finished"}]


def changes(saved: SavedItem, values: dict) -> list[Change]:
    """What the file would change in a save, each change marked as a conflict when it
    replaces something the person set (or goes with one that does)."""
    model = type(saved)
    if values.get("status") == Status.PLANNED and saved.status != Status.PLANNED:
        # A watchlist says "to watch", not "not watched": it never takes a save back to planned.
        values = {name: value for name, value in values.items() if name != "status"}
    found = []
    for name, new in values.items():
        old = getattr(saved, name)
        if old == new:
            continue
        found.append(
            Change(
                field=name,
                label=_label(model, name),
                old=_shown(name, old),
                new=_shown(name, new),
                conflict=not _empty(name, old),
            )
        )
    for group in _groups(model):
        if any(change.conflict for change in found if change.field in group):
            for change in found:
                change.conflict = change.conflict or change.field in group
    return found


def _dates_in_order(saved: SavedItem, values: dict, changes: list[Change], choice: str) -> bool:
    """Whether the save would keep its finish on or after its start under `choice`."""
    merged = {name: getattr(saved, name, None) for name in ("started", "finished")}
    for change in changes:
        if change.field in merged and (not change.conflict or choice == TAKE):
            merged[change.field] = values[change.field]
    return None in merged.values() or merged["finished"] >= merged["started"]


def build_plan(imp: Import, rows: list[dict] | None = None, *, lock: bool = False) -> Plan:
    """Each row of the import in its section, compared with what the person tracks now
    (with `lock`, the person's saves it reads are locked until the transaction ends, so an
    edit made meanwhile waits instead of being overwritten)."""
    rows = imp.rows if rows is None else rows
    items: dict[str, dict[int, CatalogItem]] = {}
    saves: dict[str, dict[int, SavedItem]] = {}
    for kind in KINDS.values():
        pks = [
            row["match"]["item"]
            for row in rows
            if row["kind"] == kind.key and "item" in row.get("match", {})
        ]
        items[kind.key] = kind.item_model.objects.in_bulk(pks) if pks else {}
        found: dict[int, SavedItem] = {}
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            saved_rows = kind.saved_model.objects.filter(
                user=imp.user, **{f"{kind.item_field}__in": chunk}
            )
            for saved in saved_rows.select_for_update() if lock else saved_rows:
                found[getattr(saved, f"{kind.item_field}_id")] = saved
        saves[kind.key] = found
    entries = []
    seen: dict[tuple, int] = {}
    for index, data in enumerate(rows):
        row = row_from_json(data)
        kind = KINDS[row.kind]
        match = data.get("match", {})
        entry = Entry(index=index, row=row, section="skipped", kind=kind)
        entries.append(entry)
        if row.skip_reason:
            entry.reason = f"It is {row.skip_reason}."
            continue
        if "skipped" in match:
            entry.reason = match["skipped"]
            continue
        if "unmatched" in match or not match:
            entry.section, entry.reason = "unmatched", match.get("unmatched", "Not matched yet.")
            continue
        if "record" in match:
            entry.record = match["record"]
            key = (kind.key, "record", entry.record["provider"], str(entry.record["ids"]))
        else:
            entry.item = items[kind.key].get(match["item"])
            if entry.item is None:  # removed from the catalog since it was matched
                entry.section, entry.reason = "unmatched", "That title has left the catalog."
                continue
            key = (kind.key, "item", entry.item.pk)
        if key in seen:
            entry.reason = f"The same title as line {rows[seen[key]]['line']}."
            continue
        seen[key] = index
        totals_from = entry.item if entry.item is not None else _unsaved_item(kind, entry.record)
        entry.values, entry.notes = file_values(kind, row, totals_from)
        entry.saved = saves[kind.key].get(entry.item.pk) if entry.item is not None else None
        if entry.saved is None:
            entry.section = "new"
        else:
            entry.changes = changes(entry.saved, entry.values)
            if not all(
                _dates_in_order(entry.saved, entry.values, entry.changes, choice)
                for choice in (KEEP, TAKE)
            ):
                entry.changes = [c for c in entry.changes if c.field not in ("started", "finished")]
                entry.notes.append(
                    "The file's dates would put the finish before the start you track: left out."
                )
            entry.section = "updated" if entry.changes else "unchanged"
    return Plan(entries)


def _unsaved_item(kind: Kind, record: dict) -> CatalogItem:
    """A catalog row, not saved, with a provider record's facts (for its totals), completed
    as its model's clean() completes it (a show's totals from its seasons)."""
    item = kind.item_model(**Record(**_record_args(record)).catalog_fields())
    with suppress(ValidationError):  # what the catalog refuses is not the preview's to say
        item.clean()
    return item


def _record_args(record: dict) -> dict:
    return record | {"alt_titles": tuple(record.get("alt_titles", ()))}


# 4. Applying.


def request_apply(imp: Import, choice: str) -> bool:
    """Start applying a ready import (once, however often the button is pressed)."""
    choice = TAKE if choice == TAKE else KEEP
    with transaction.atomic():  # queued with the state change, or neither
        started = Import.objects.filter(pk=imp.pk, state=Import.State.READY).update(
            state=Import.State.APPLYING, updated=timezone.now()
        )
        if started:
            apply_import.using(priority=PRIORITY).enqueue(imp.pk, choice)
    return bool(started)


def _added_at(entry: Entry, now: datetime.datetime) -> datetime.datetime:
    """When the file says the title was saved: the earliest of its dates (when it was added,
    started, watched, finished) that is not in the future, else now."""
    found = []
    for value in (entry.row.added, *(entry.values.get(name) for name in DATED)):
        if isinstance(value, datetime.datetime):
            found.append(value if timezone.is_aware(value) else timezone.make_aware(value))
        elif isinstance(value, datetime.date):
            found.append(timezone.make_aware(datetime.datetime.combine(value, datetime.time(12))))
    return min([when for when in found if when <= now], default=now)


DATED = ("started", "watched_on", "finished")


def write_plan(imp: Import, choice: str) -> dict:
    """Write what the import's plan says, in the caller's transaction; the counts."""
    rows = imp.rows
    for data in rows:  # provider titles the catalog lacks join it now
        match = data.get("match", {})
        if "record" in match:
            kind = KINDS[data["kind"]]
            item, _ = add_record(kind, Record(**_record_args(match["record"])))
            data["match"] = {"item": item.pk}
    plan = build_plan(imp, rows, lock=True)
    now = timezone.now()
    summary = plan.counts | {"updated": 0, "kept": 0, "adjusted": len(plan.capped)}
    for kind in KINDS.values():
        model = kind.saved_model
        new, updated, fields = [], [], set()
        for entry in plan.entries:
            if entry.kind is not kind:
                continue
            if entry.section == "new":
                saved = model(user=imp.user, **{kind.item_field: entry.item}, **entry.values)
                saved.created = _added_at(entry, now)
                new.append(saved)
            elif entry.section == "updated":
                chosen = entry.changes_for(choice)
                if len(chosen) < len(entry.changes):
                    summary["kept"] += 1  # some or all of what the file says: kept as theirs
                if not chosen:
                    continue
                summary["updated"] += 1
                for change in chosen:
                    setattr(entry.saved, change.field, entry.values[change.field])
                    fields.add(change.field)
                entry.saved.updated = now
                updated.append(entry.saved)
        model.objects.bulk_create(new, batch_size=BATCH)
        if updated:
            model.objects.bulk_update(updated, [*sorted(fields), "updated"], batch_size=BATCH)
    return summary


@task()
def apply_import(import_id: int, choice: str) -> dict:
    """Write an import in one transaction: all of it, or (when anything fails) none. A save
    the person made meanwhile of a title the plan takes as new is met by trying once more
    (the plan is made again, inside the transaction, from what is there then)."""
    try:
        for attempt in (1, 2):
            imp = Import.objects.filter(pk=import_id, state=Import.State.APPLYING).first()
            if imp is None:
                return {}
            try:
                with transaction.atomic():
                    summary = write_plan(imp, choice)
                    Import.objects.filter(pk=import_id).update(
                        state=Import.State.DONE, rows=[], summary=summary, updated=timezone.now()
                    )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("Import %s met a concurrent save; planning again", import_id)
    except Exception:
        logger.exception("Import %s failed; nothing was written", import_id)
        Import.objects.filter(pk=import_id).update(
            state=Import.State.FAILED,
            rows=[],
            error=(
                "Something went wrong while importing, so nothing was imported. Your list is "
                "as it was; upload the file again to retry."
            ),
            updated=timezone.now(),
        )
        return {"failed": True}
    logger.info("Import %s applied: %s", import_id, summary)
    return summary
