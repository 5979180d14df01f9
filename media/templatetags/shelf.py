"""Shelf's template filters."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()
# Shelf speaks English.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A poster's box by size, always 2:3: the <img> carries these as width and height, so the
# page keeps its place for it before it loads.
POSTER_SIZES = {"small": (48, 72), "card": (64, 96), "large": (160, 240)}


@register.filter
def day(moment: datetime) -> str:
    """When something happened, to the day: "today", "yesterday" or "3 Nov 2026" (cheaper than
    naturaltime on a page of many entries, and the same from one hour to the next)."""
    date = timezone.localtime(moment).date()
    today = timezone.localdate()
    if date == today:
        return "today"
    if date == today - timedelta(days=1):
        return "yesterday"
    return calendar_day(date)


@register.filter
def calendar_day(date) -> str:
    """A date as "3 Nov 2026": what |date:"j M Y" gives, without its translation lookups (a
    page of entries shows many)."""
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


@register.filter
def poster_box(size: str) -> tuple[int, int]:
    """(width, height) in CSS pixels of a poster of `size`: "small", "card" or "large"."""
    return POSTER_SIZES.get(size, POSTER_SIZES["card"])


@register.filter
def initials(title: str) -> str:
    """Up to two initials of a title, for a poster's placeholder: "Cowboy Bebop" gives "CB"."""
    words = [word for word in str(title).split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or str(title)[:1].upper()


@register.filter
def facts_line(item) -> list[str]:
    """What a title's meta line shows, the parts that are known: its year, then its facts."""
    return [str(item.year)] * bool(item.year) + item.fact_texts


@register.filter
def saved_of(states: dict | None, item):
    """The person's save of `item` from `media.saved_states.saved_states`, or None."""
    return (states or {}).get((item.kind_key, item.pk))


@register.filter
def progress_text(saved) -> str:
    """How far along a save is, shortly: "12 / 26 episodes", "watched"."""
    states = saved.counter_states
    return states[0].text if states else saved.progress_summary


@register.filter
def kind_label(item) -> str:
    """The label of a title's kind, from the registry: "Anime" ("" for what has no kind)."""
    from media.kinds import KINDS  # the registry imports the models, which load after tags

    kind = KINDS.get(getattr(item, "kind_key", ""))
    return kind.label if kind else ""
