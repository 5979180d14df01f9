"""What every view module shares: the typed request, safe redirects, and signing in first."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """`candidate` if it is a path or URL on this site, else None."""
    if (
        candidate
        and len(candidate) <= 2000
        and candidate.isprintable()
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return None


def see_other(url: str) -> HttpResponseRedirect:
    """Post/Redirect/Get: 303 makes the browser follow with a GET, so reload never re-posts."""
    return HttpResponseRedirect(url, status=303)


def login_first(request: HtmxHttpRequest, item, back: str | None = None) -> HttpResponse:
    """Send an anonymous person to sign in, and back to the item (or `back`) afterwards."""
    login_redirect = redirect_to_login(back or item.get_absolute_url())
    if request.htmx:
        return HttpResponseClientRedirect(login_redirect.url)
    return login_redirect
