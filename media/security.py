"""Defences that every request goes through: the headers every answer carries (a Content
Security Policy, a Permissions-Policy) and the pieces django-axes calls to throttle sign-ins
(who is asking, under which account name, and the page a locked-out person sees).

Settings name these functions (AXES_CLIENT_IP_CALLABLE, AXES_USERNAME_CALLABLE,
AXES_LOCKOUT_CALLABLE, MIDDLEWARE); README.md's "Security" says what they add up to.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.checks import Error, Tags, register
from django.core.signals import setting_changed
from django.db.models import Max, Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from media.pwa import POSTER_HOSTS

# Features no page of Shelf uses: nothing it loads (or anything injected) may ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


# A CSP host source as SHELF_IMAGE_HOSTS may give it: a name, or *.name, and a port.
HOST_SOURCE = re.compile(r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


def image_hosts() -> list[str]:
    """Where posters may come from: the providers' image hosts, a TMDB image mirror if one is
    configured, and SHELF_IMAGE_HOSTS. Bare host names, so an http:// poster still loads on a
    plain-HTTP install (the browser upgrades it under HTTPS)."""
    hosts = list(POSTER_HOSTS)
    mirror = urlsplit(settings.TMDB_IMAGE_URL)
    mirror_host = f"{mirror.hostname}:{mirror.port}" if mirror.port else mirror.hostname
    for host in [mirror_host, *settings.SHELF_IMAGE_HOSTS]:
        if host and HOST_SOURCE.fullmatch(host) and host not in hosts:
            hosts.append(host)
    return hosts


@register(Tags.security)
def check_image_hosts(app_configs, **kwargs) -> list[Error]:
    """SHELF_IMAGE_HOSTS goes into a header: each entry must be a host (and port), nothing more."""
    return [
        Error(
            f"SHELF_IMAGE_HOSTS has {host!r}, which is not a host name (with an optional port).",
            hint="Write host names only, comma-separated: images.example.org,cdn.example.net:8443",
            id="shelf.E001",
        )
        for host in settings.SHELF_IMAGE_HOSTS
        if not HOST_SOURCE.fullmatch(host)
    ]


def policy_directives() -> dict[str, list[str]]:
    """The Content-Security-Policy, directive by directive. No inline script or style and no
    eval anywhere (the templates have none, and htmx's own stylesheet is a constructed one);
    the service worker fetches posters itself, so connect-src names their hosts too."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", *image_hosts()],
        "connect-src": ["'self'", *image_hosts()],
        "font-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "report-uri": [reverse("csp_report")],
    }
    if settings.SECURE_SSL_REDIRECT:
        # Only under HTTPS: on a plain-HTTP install it would send every request to https://.
        directives["upgrade-insecure-requests"] = []
    return directives


@cache
def content_security_policy() -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy_directives().items())


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and Permissions-Policy to every answer: pages,
    fragments, errors, redirects (HTTPS ones too, as it comes first) and static files, whose SVGs
    could otherwise run script when opened on their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# Sign-in throttling (django-axes).


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in is counted against. REMOTE_ADDR unless SHELF_TRUSTED_PROXIES says
    how many proxies of ours stand in front: then the address the outermost of them saw,
    read from the right of X-Forwarded-For (entries further left are whatever the client
    wrote). Anything that is not an IP address falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.SHELF_TRUSTED_PROXIES
    if proxies <= 0:
        return per_network(remote)
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < proxies:
        return per_network(remote)
    try:
        return per_network(str(ipaddress.ip_address(hops[-proxies])))
    except ValueError:
        return per_network(remote)


def per_network(address: str | None) -> str | None:
    """An IPv6 address stands for its /64: one home or one server gets a whole /64, so counting
    each address apart would give a client millions of fresh starts. IPv4 stays as it is."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.7 is 192.0.2.7
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)


def username_key(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account name failures are counted under: compared without regard to case or
    Unicode form, so `Ada`, `ADA` and `ada` share one counter."""
    field = get_user_model().USERNAME_FIELD
    source = credentials if credentials is not None else request.POST
    value = source.get(field) if source is not None else None
    if not isinstance(value, str) or not value.strip():
        return None
    return unicodedata.normalize("NFKC", value.strip()).casefold()[:150]


def lockout_until(request: HttpRequest, credentials: dict | None) -> datetime:
    """When neither this account name nor this address is locked any more: the latest failure
    still counted, plus the cool-off. (Failures made while locked are not counted.)"""
    from axes.models import AccessAttempt

    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    matches = Q(ip_address=getattr(request, "axes_ip_address", None) or client_ip(request))
    username = username_key(request, credentials)
    if username:
        matches |= Q(username=username)
    latest = (
        AccessAttempt.objects.filter(matches, attempt_time__gte=now - cool_off)
        .aggregate(latest=Max("attempt_time"))
        .get("latest")
    )
    return (latest or now) + cool_off


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page again, with what happened and when to try again: 429, with
    Retry-After. Nothing here checks a password, so a flood of locked attempts stays cheap."""
    from django.contrib.auth.forms import AuthenticationForm
    from django.shortcuts import render

    from media.views.http import safe_next

    until = lockout_until(request, credentials)
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    user = getattr(request, "user", None)
    if original_response is not None and user is not None and user.is_authenticated:
        # A signed-in person's password asked again (the e-mail, a new password, deleting the
        # account): their own form, which says so, with the lockout's status.
        original_response.status_code = 429
        original_response["Retry-After"] = str(seconds)
        return original_response
    minutes = math.ceil(seconds / 60)
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    message = (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {wait} (after {until:%H:%M} UTC), or ask the admin to unlock it."
    )
    username = (credentials or {}).get(get_user_model().USERNAME_FIELD) or ""
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "lockout": message,
        "next": safe_next(request, request.POST.get("next")) or "",
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


@receiver(user_logged_in, dispatch_uid="media.security.forget_failures")
def forget_failures(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A successful sign-in clears that account's failures, and only its: counting per address
    goes on, so signing in to an account of one's own does not buy more guesses at others."""
    if not settings.AXES_ENABLED:
        return
    from axes.models import AccessAttempt

    key = username_key(request, {get_user_model().USERNAME_FIELD: user.get_username()})
    if key:
        AccessAttempt.objects.filter(username=key).delete()


@receiver(setting_changed, dispatch_uid="media.security.policy_settings")
def _policy_settings_changed(setting: str, **kwargs) -> None:
    # Tests change the settings the policy is drawn from; a deploy restarts the processes.
    if setting in {"SECURE_SSL_REDIRECT", "TMDB_IMAGE_URL", "SHELF_IMAGE_HOSTS", "ROOT_URLCONF"}:
        content_security_policy.cache_clear()
