"""Accounts: sign up, sign out (which also forgets the offline copies), and the CSRF page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.views.decorators.http import require_http_methods, require_POST

from media.views.http import HtmxHttpRequest, safe_next, see_other


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = UserCreationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Shelf, {user.get_username()}.")
        return see_other(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    status = 400 if form.is_bound else 200
    return render(
        request, "registration/signup.html", {"form": form, "next": next_url or ""}, status=status
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a missing or stale CSRF token, as a page of the site rather than Django's."""
    return render(request, "403_csrf.html", status=403)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Django's sign-out, plus: the browser deletes what it kept for this person offline."""
    response = LogoutView.as_view()(request)
    return response
