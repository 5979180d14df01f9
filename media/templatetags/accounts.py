"""`{% signups_open as open %}`: whether the pages may offer Sign up (SHELF_SIGNUPS)."""

from __future__ import annotations

from django import template

from media import accounts

register = template.Library()


@register.simple_tag
def signups_open() -> bool:
    return accounts.signups_open()
