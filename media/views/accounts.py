"""Accounts: sign up, the account page (e-mail, password, delete), password resets, sign out
(which also forgets the offline copies), and the CSRF page."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse, reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from media.accounts import (
    ONLY_ADMIN,
    TAKEN,
    ChangePasswordForm,
    DeleteAccountForm,
    EmailForm,
    OnlyAdministrator,
    ResetForm,
    SignUpForm,
    delete_account,
    reset_wait,
    signup_wait,
    signups_open,
)
from media.auth import BACKEND
from media.feed import status_counts
from media.models import Import
from media.security import client_ip
from media.views.http import HtmxHttpRequest, safe_next, see_other


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if not signups_open():
        return render(request, "registration/signup_closed.html", status=403)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = SignUpForm(request.POST if request.method == "POST" else None)
    user, welcome = None, None
    wait = signup_wait(client_ip(request) or "") if form.is_valid() else 0
    if wait:
        form.add_error(
            None,
            "Too many accounts were made from this address just now: "
            f"try again in {math.ceil(wait / 60)} minutes.",
        )
        response = render(
            request, "registration/signup.html", {"form": form, "next": next_url or ""}, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid():
        username, password = form.cleaned_data["username"], form.cleaned_data["password1"]
        try:
            with transaction.atomic():  # a savepoint: the request goes on after a refusal
                user = form.save()
            welcome = f"Welcome to Shelf, {user.get_username()}."
        except IntegrityError:  # the same name, signed up a moment ago (a second post)
            form.add_error("username", TAKEN)
            user = authenticate(request, username=username, password=password)
    elif form.is_bound and form.only_taken():
        # Posted again after it worked: with that account's password, this is signing in.
        user = authenticate(
            request,
            username=form.data.get("username", ""),
            password=form.cleaned_data.get("password1", ""),
        )
    if user is not None:
        login(request, user, backend=getattr(user, "backend", BACKEND))
        messages.success(
            request,
            welcome or f"You already have this account, {user.get_username()}: you are signed in.",
        )
        return see_other(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    status = 400 if form.is_bound else 200
    return render(
        request, "registration/signup.html", {"form": form, "next": next_url or ""}, status=status
    )


@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The account page: who you are, your e-mail (changed here), and the way to the rest."""
    form = EmailForm(
        request,
        request.POST if request.method == "POST" else None,
        initial={"email": request.user.email},
    )
    if form.is_valid():
        email = form.save()
        messages.success(
            request,
            f"Your e-mail address is now {email}."
            if email
            else "Your e-mail address "
            "was removed: a forgotten password can no longer be reset by e-mail.",
        )
        return see_other(reverse("account"))
    return render(
        request,
        "registration/account.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    """Delete the account and all that is in it, once the password is given again; then
    sign out as the Sign out button does (Django's logout, which clears the offline copies)."""
    form = DeleteAccountForm(request, request.POST if request.method == "POST" else None)
    deleted = False
    if form.is_valid():
        try:
            delete_account(request.user)
            deleted = True
        except OnlyAdministrator:  # another administrator deleted theirs a moment ago
            form.add_error(None, ONLY_ADMIN)
    if deleted:
        name = request.user.get_username()
        logout(request)
        messages.success(request, f"The account {name} and everything in it were deleted.")
        return see_other(reverse("media:home"))
    context = {
        "form": form,
        "saves": sum(status_counts(request.user).values()),
        "imports": Import.objects.filter(user=request.user).count(),
    }
    return render(
        request, "registration/delete_account.html", context, status=400 if form.is_bound else 200
    )


class InvalidIs400:
    """A form posted with errors comes back with 400, as Shelf's other forms do."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordChange(InvalidIs400, auth_views.PasswordChangeView):
    form_class = ChangePasswordForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirm(InvalidIs400, auth_views.PasswordResetConfirmView):
    pass


class PasswordReset(InvalidIs400, auth_views.PasswordResetView):
    """Django's reset request, throttled per address and per e-mail; the answer is the same
    page whether or not an account has the e-mail (429 when throttled, either way too)."""

    form_class = ResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # The address as the sign-in throttle counts it (SHELF_TRUSTED_PROXIES behind a proxy).
        wait = reset_wait(client_ip(self.request) or "", form.cleaned_data["email"])
        if wait:
            response = render(
                self.request,
                "registration/password_reset_throttled.html",
                {"minutes": math.ceil(wait / 60)},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().form_valid(form)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a missing or stale CSRF token, as a page of the site rather than Django's."""
    return render(request, "403_csrf.html", status=403)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Django's sign-out, by POST alone. Its answer clears the offline copies as every logout()
    does (media.pwa's user_logged_out receiver)."""
    return LogoutView.as_view()(request)
