"""Shelf's template filters."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date

from media import models

register = template.Library()


@register.simple_tag
def kind_url(name: str, kind, pk) -> str:
    """{% kind_url 'media:save' kind pk %}: what {% url name kind=kind pk=pk %} gives, faster."""
    return models.kind_url(name, str(kind), pk)


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
    return format_date(date, "j M Y")
