"""Signing in with a username in any case, and the password rule Django lacks."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Value
from django.db.models.functions import Lower

# Who signed a new account in (login() must be told when there are several backends).
BACKEND = "media.auth.AnyCaseUsernameBackend"


def user_named(username: str):
    """The account whose username is `username` in any case, or None.

    Compares lower(username) as the database folds it, so the lookup uses the unique index
    that migration 0011 puts on that expression (at most one account matches)."""
    users = get_user_model()._default_manager
    return users.alias(folded=Lower("username")).filter(folded=Lower(Value(username))).first()


class AnyCaseUsernameBackend(ModelBackend):
    """Django's backend, but "Ada", "ada" and "ADA" sign in to the same account."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = user_named(username)
        if user is None:
            # Hash anyway, so an unknown name takes as long to refuse as a wrong password.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class NotOnlyWhitespaceValidator:
    """Refuses a password made only of spaces (or other blank characters): eight spaces
    pass every one of Django's own validators."""

    message = "Your password cannot be only spaces."

    def validate(self, password: str, user=None) -> None:
        if not password.strip():
            raise ValidationError(self.message, code="password_only_whitespace")

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."
