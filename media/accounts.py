"""Accounts: sign-up with an optional e-mail, changing the e-mail, deleting an account,
and password-reset mail (sent by the worker, throttled per address and per e-mail)."""

from __future__ import annotations

import hashlib
import math
import time

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, UserCreationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django_tasks import task

from media.auth import user_named

TAKEN = "That username is taken."
EMAIL_HELP = "Only used to send you a link if you forget your password."
# A reset mail jumps the worker's queue: someone is waiting for it.
RESET_MAIL_PRIORITY = 20
# Reset requests, counted in fixed windows of this many seconds, in the shared cache.
RESET_WINDOW = 15 * 60
RESET_LIMITS = {"address": 10, "email": 3}
# New accounts from one address per window: each costs a password hash and a row.
SIGNUP_LIMIT = 10
LOCKED = "Too many wrong passwords: try again in a few minutes."


def signups_open() -> bool:
    return settings.SHELF_SIGNUPS != "closed"


def password_field(label: str = "Password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignUpForm(UserCreationForm):
    """Django's sign-up form, with an optional e-mail, and "taken" in any case of the name."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "E-mail (optional)"
        email.help_text = EMAIL_HELP
        email.widget.attrs["autocomplete"] = "email"

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and user_named(username) is not None:
            raise ValidationError(TAKEN, code="unique")
        return username

    def only_taken(self) -> bool:
        """Whether the one thing wrong is that the username exists (a second post of the
        same form, say): then its password may be that account's."""
        return set(self.errors) == {"username"} and self.has_error("username", "unique")


def confirm_password(request, user, password: str, wrong: str) -> None:
    """Raise ValidationError(`wrong`) unless `password` is `user`'s. Checked the way signing in
    checks it, so the sign-in throttle (django-axes) counts a wrong one and, once the account
    is locked, refuses without running the hasher: a borrowed session cannot guess the
    password here, nor a flood of posts slow the site down."""
    found = authenticate(request, username=user.get_username(), password=password)
    if getattr(request, "axes_locked_out", False):
        raise ValidationError(LOCKED, code="locked")
    if found is None or found.pk != user.pk:
        raise ValidationError(wrong, code="password_incorrect")


class PasswordCheckForm(forms.Form):
    """A form that asks for the person's current password before doing something."""

    password = password_field("Your password")

    def __init__(self, request, *args, **kwargs):
        self.request, self.user = request, request.user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        confirm_password(self.request, self.user, password, "That is not your password.")
        return password


class ChangePasswordForm(PasswordChangeForm):
    """Django's form, its old password checked as sign-in checks it (throttled)."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        confirm_password(self.request, self.user, old, self.error_messages["password_incorrect"])
        return old


class EmailForm(PasswordCheckForm):
    """The account's e-mail address, for password resets: set, changed or removed.

    Asks for the password, or a borrowed session could point the resets elsewhere and so
    change the password without knowing it."""

    email = forms.EmailField(
        label="E-mail address",
        required=False,
        max_length=254,
        help_text=EMAIL_HELP + " Leave it empty to remove it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["email", "password"]

    def save(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        get_user_model().objects.filter(pk=self.user.pk).update(email=email)
        self.user.email = email
        return email


ONLY_ADMIN = (
    "You are this Shelf's only administrator: make another account an administrator"
    " (in the admin) before deleting this one."
)


class OnlyAdministrator(Exception):
    """Deleting this account would leave Shelf without an administrator."""


def is_only_admin(user, lock: bool = False) -> bool:
    admins = get_user_model().objects.filter(is_superuser=True, is_active=True)
    if lock:  # in the delete's transaction: two admins deleting themselves at once queue here
        admins = admins.select_for_update()
    others = [pk for pk in admins.values_list("pk", flat=True) if pk != user.pk]
    return user.is_superuser and not others


class DeleteAccountForm(PasswordCheckForm):
    def clean(self):
        data = super().clean()
        if is_only_admin(self.user):
            raise ValidationError(ONLY_ADMIN, code="only_admin")
        return data


def delete_account(user) -> None:
    """Delete `user` and, by cascade, everything that is theirs: saves, counts, removed
    saves kept for Undo, imports (an open one too).

    The account's row is locked first (PostgreSQL), so a write that refers to it, such as an
    import being applied by the worker, either ends before the delete (and is deleted with
    it) or waits and then fails. Should the two still deadlock, the delete runs again."""
    users = get_user_model().objects
    for attempt in (1, 2, 3):
        try:
            with transaction.atomic():
                users.select_for_update().filter(pk=user.pk).first()
                if is_only_admin(user, lock=True):  # checked again, under the lock
                    raise OnlyAdministrator
                users.filter(pk=user.pk).delete()
            return
        except OperationalError:
            if attempt == 3:
                raise


class ResetForm(PasswordResetForm):
    """Django's reset form, but the mail is sent by the worker: the page answers as fast
    whether or not an account has the address, so its timing reveals nothing either."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail"

    def save(self, domain_override=None, use_https=False, request=None, **kwargs):
        domain = domain_override or request.get_host()
        send_reset_mail.using(priority=RESET_MAIL_PRIORITY).enqueue(
            self.cleaned_data["email"], domain, use_https
        )


@task()
def send_reset_mail(email: str, domain: str, use_https: bool) -> int:
    """Mail a reset link to each active account with `email` (none: nothing is sent)."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(email))
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
    )
    return len(users)


def _counter(scope: str, value: str, window: int) -> str:
    # Hashed: the cache table is no place for people's addresses.
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"shelf:reset:{scope}:{digest}:{window}"


def _count(scope: str, value: str, window: int) -> int:
    key = _counter(scope, value, window)
    cache.add(key, 0, RESET_WINDOW + 60)
    try:
        return cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, RESET_WINDOW + 60)
        return 1


def signup_wait(address: str, now: float | None = None) -> int:
    """Count one new account from `address`; the seconds to wait before the next is allowed,
    0 when this one is (SIGNUP_LIMIT per window, shared by every process)."""
    now = time.time() if now is None else now
    window = int(now // RESET_WINDOW)
    over = _count("signup", address, window) > SIGNUP_LIMIT
    return math.ceil((window + 1) * RESET_WINDOW - now) if over else 0


def reset_wait(address: str, email: str, now: float | None = None) -> int:
    """Count one reset request from `address` for `email`; the seconds to wait before the
    next is allowed, 0 when this one is. The counts live in the cache (the database's),
    so every process shares them; an e-mail is counted whether or not an account has it."""
    now = time.time() if now is None else now
    window = int(now // RESET_WINDOW)
    over = False
    for scope, value in (("address", address), ("email", email.strip().casefold())):
        over = _count(scope, value, window) > RESET_LIMITS[scope] or over
    return math.ceil((window + 1) * RESET_WINDOW - now) if over else 0
