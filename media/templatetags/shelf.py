"""Shelf's template filters."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()
# Shelf speaks English.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
