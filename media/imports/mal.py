"""MyAnimeList XML exports (anime or manga), as MyAnimeList, Kitsu and others write them.

The XML comes from a person's upload: it is parsed with defusedxml, and a DTD, an entity
declaration or an external reference is refused (billion laughs, external entities).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from media.imports import Format, FormatError, Row, parse_date, parse_int

# my_status, in words (anime and manga) or as the numbers some writers use.
STATUSES = {
    "watching": "in_progress",
    "reading": "in_progress",
    "completed": "completed",
    "on-hold": "on_hold",
    "on hold": "on_hold",
    "dropped": "dropped",
    "plan to watch": "planned",
    "plan to read": "planned",
    "1": "in_progress",
    "2": "completed",
    "3": "on_hold",
    "4": "dropped",
    "6": "planned",
}
FLAGS = {"": False, "0": False, "no": False, "1": True, "yes": True}


class _LineBuilder(TreeBuilder):
    """Records the line each <anime> or <manga> starts on (ElementTree keeps no lines)."""

    def __init__(self):
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[Element, int] = {}

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if tag in ("anime", "manga"):
            self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


def read_xml(data: bytes) -> tuple[Element, dict[Element, int]]:
    builder = _LineBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException:
        raise FormatError(
            "This XML file declares a DTD or entities (which can expand into gigabytes or read "
            "files from the server): Shelf refuses it. MyAnimeList exports have none."
        ) from None
    except ParseError as error:
        line, column = error.position
        raise FormatError(
            f"This XML file is broken at line {line}, column {column + 1}: "
            f"{str(error).split(':')[0]}."
        ) from None
    return root, builder.lines


def detect(data: bytes) -> Format:
    root, lines = read_xml(data)
    if root.tag != "myanimelist":
        raise FormatError(
            "This is not a file Shelf can import: it is XML, but not a MyAnimeList export "
            f"(it starts with <{root.tag}>, not <myanimelist>)."
        )
    kinds = {child.tag for child in root if child.tag in ("anime", "manga")}
    if len(kinds) > 1:
        raise FormatError("This MyAnimeList file mixes anime and manga; an export holds one.")
    if not kinds:
        export_type = (root.findtext("myinfo/user_export_type") or "").strip()
        kinds = {"manga" if export_type == "2" else "anime"}
    kind = kinds.pop()
    return Format(
        name=f"mal_{kind}",
        label=f"MyAnimeList {kind} list",
        read=lambda: [_row(entry, kind, lines.get(entry, 0)) for entry in root.iter(kind)],
    )


def _text(entry: Element, tag: str) -> str:
    return (entry.findtext(tag) or "").strip()


def _flag(entry: Element, tag: str, line: int) -> bool:
    value = _text(entry, tag)
    if value.casefold() not in FLAGS:
        raise FormatError(f"Line {line}: <{tag}> is “{value}”, not YES, NO, 1 or 0.")
    return FLAGS[value.casefold()]


def _row(entry: Element, kind: str, line: int) -> Row:
    prefix, id_tag = (
        ("series", "series_animedb_id") if kind == "anime" else ("manga", "manga_mangadb_id")
    )
    mal_id = parse_int(_text(entry, id_tag), line, f"MyAnimeList id <{id_tag}>", low=1)
    if mal_id is None:
        raise FormatError(f"Line {line}: this {kind} has no MyAnimeList id <{id_tag}>.")
    title = _text(entry, f"{prefix}_title")
    raw_status = _text(entry, "my_status")
    status = STATUSES.get(raw_status.casefold()) if raw_status else None
    if raw_status and status is None:
        raise FormatError(f"Line {line}: “{raw_status}” is not a MyAnimeList status.")
    score = parse_int(_text(entry, "my_score"), line, "score <my_score>", low=0, high=10)
    # An element that is missing or empty says nothing (None), which never erases progress.
    if kind == "anime":
        progress = {
            "episode_progress": parse_int(
                _text(entry, "my_watched_episodes"), line, "<my_watched_episodes>"
            )
        }
        times, again = "my_times_watched", "my_rewatching"
    else:
        progress = {
            "chapter_progress": parse_int(
                _text(entry, "my_read_chapters"), line, "<my_read_chapters>"
            ),
            "volume_progress": parse_int(
                _text(entry, "my_read_volumes"), line, "<my_read_volumes>"
            ),
        }
        times, again = "my_times_read", "my_rereading"
    rewatches = parse_int(_text(entry, times), line, f"<{times}>") or 0
    if _flag(entry, again, line) and status is None:
        status = "in_progress"  # rewatching (rereading) now: it is in progress again
    _flag(entry, "update_on_import", line)  # checked, not used: Shelf shows every change anyway
    return Row(
        kind=kind,
        title=title,
        year=None,  # MyAnimeList exports carry no year
        ids={"mal_id": mal_id},
        status=status,
        progress=progress,
        score=score or None,  # 0 means no score
        note=_text(entry, "my_comments"),
        started=parse_date(_text(entry, "my_start_date"), line, "start date"),
        finished=parse_date(_text(entry, "my_finish_date"), line, "finish date"),
        watched_on=None,
        rewatches=rewatches,
        line=line,
    )
