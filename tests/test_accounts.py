"""Accounts people can manage: the account page, e-mail, password change and reset, deleting
an account, usernames in any case, signing up twice, closed sign-up, all-spaces passwords."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory
from django.views.debug import SafeExceptionReporterFilter

from media import accounts, importing
from media.auth import NotOnlyWhitespaceValidator
from media.models import Import, RemovedSave, SavedAnime, SavedCount, SavedManga, SavedMovie
from media.views import accounts as account_views
from project.email_url import email_settings

User = get_user_model()
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a-brand-new-passphrase"
SIGNUP = {"username": "lin", "password1": "a-long-passphrase", "password2": "a-long-passphrase"}


def authenticate(username: str, password: str):
    """Django's authenticate() as the sign-in page calls it: with a request, which the sign-in
    throttle (django-axes, the first backend) needs."""
    return django_authenticate(
        RequestFactory().post("/accounts/login/"), username=username, password=password
    )


def html(response) -> str:
    return response.content.decode()


def signed_in_as(client: Client):
    """Who the client is signed in as, by the session, or None."""
    user_id = client.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


# The account page.


def test_account_page_needs_signing_in(client, db):
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/"


def test_account_page_shows_the_name_and_links_to_the_rest(auth_client, user):
    page = html(auth_client.get("/accounts/"))
    assert "<dd>ada</dd>" in page
    for link in ("/accounts/password/", "/export/", "/accounts/delete/"):
        assert f'href="{link}"' in page
    assert ">E-mail address</label>" in page


def test_header_links_the_name_to_the_account_page(auth_client, client):
    page = html(auth_client.get("/"))
    link = '<a class="account-name" href="/accounts/" aria-label="Your account: ada">ada</a>'
    assert link in page
    assert 'href="/accounts/"' not in html(client.get("/"))


def test_email_is_set_changed_and_removed_with_the_password(auth_client, user):
    response = auth_client.post("/accounts/", {"email": "ada@example.org", "password": PASSWORD})
    assert response.status_code == 303 and response["Location"] == "/accounts/"
    user.refresh_from_db()
    assert user.email == "ada@example.org"
    assert 'value="ada@example.org"' in html(auth_client.get("/accounts/"))
    auth_client.post("/accounts/", {"email": "", "password": PASSWORD})
    user.refresh_from_db()
    assert user.email == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "ada@example.org", "password": "wrong"}, "That is not your password."),
        ({"email": "ada@example.org"}, "This field is required."),
        ({"email": "not an address", "password": PASSWORD}, "Enter a valid email address."),
    ],
)
def test_email_is_not_changed_without_the_password_or_a_valid_address(
    auth_client, user, data, message
):
    response = auth_client.post("/accounts/", data)
    assert response.status_code == 400
    assert message in html(response)
    user.refresh_from_db()
    assert user.email == ""


# Changing the password.


def test_change_password_keeps_this_session_signed_in(auth_client, user):
    other_device = Client()
    other_device.force_login(user)
    response = auth_client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/changed/"
    assert "Your password is changed" in html(auth_client.get("/accounts/password/changed/"))
    assert auth_client.get("/saved/").status_code == 200
    assert other_device.get("/saved/").status_code == 302  # signed out elsewhere
    assert authenticate(username="ada", password=NEW_PASSWORD) == user
    assert authenticate(username="ada", password=PASSWORD) is None


def test_change_password_needs_the_old_one(auth_client, user):
    response = auth_client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in html(response)
    assert authenticate(username="ada", password=PASSWORD) == user


# Resetting a forgotten password by e-mail.


def reset_link(message) -> str:
    found = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_sign_in_page_links_to_the_reset(client, db):
    assert 'href="/accounts/password/reset/"' in html(client.get("/accounts/login/"))


def test_reset_by_the_mailed_link_end_to_end(client, user):
    user.email = "ada@example.org"
    user.save()
    response = client.post("/accounts/password/reset/", {"email": "ADA@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"]
    assert message.subject == "Reset your Shelf password"
    assert "Your username is ada." in message.body

    form = client.get(reset_link(message), follow=True)
    assert form.status_code == 200
    assert "Choose a new password" in html(form)
    set_password_url = form.redirect_chain[-1][0]  # Django swaps the token for a session key
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"
    assert authenticate(username="ada", password=NEW_PASSWORD) == user
    # The link works once.
    again = client.get(reset_link(message), follow=True)
    assert "This link does not work" in html(again)
    signed_in = client.post("/accounts/login/", {"username": "ada", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_reset_answers_the_same_whether_or_not_an_account_has_the_email(client, user):
    user.email = "ada@example.org"
    user.save()
    known = client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    assert html(client.get(known["Location"])) == html(client.get(unknown["Location"]))


def test_reset_mails_each_account_that_shares_the_address(client, user, other_user):
    User.objects.update(email="home@example.org")
    client.post("/accounts/password/reset/", {"email": "home@example.org"})
    names = sorted(re.search(r"Your username is (\w+)\.", m.body).group(1) for m in mail.outbox)
    assert names == ["ada", "grace"]


def test_reset_form_refuses_an_invalid_address(client, db):
    response = client.post("/accounts/password/reset/", {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address." in html(response)


def test_reset_requests_are_throttled_per_email_without_telling_if_it_exists(client, user):
    user.email = "ada@example.org"
    user.save()
    for email in ("ada@example.org", "nobody@example.org"):
        statuses = [
            client.post("/accounts/password/reset/", {"email": email}).status_code
            for _ in range(accounts.RESET_LIMITS["email"] + 1)
        ]
        assert statuses == [302] * accounts.RESET_LIMITS["email"] + [429]
    throttled = client.post("/accounts/password/reset/", {"email": "ADA@example.org"})
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= accounts.RESET_WINDOW
    assert "Too many password resets" in html(throttled)
    assert len(mail.outbox) == accounts.RESET_LIMITS["email"]  # no mail past the limit


def test_reset_requests_are_throttled_per_address(client, db):
    limit = accounts.RESET_LIMITS["address"]
    statuses = [
        client.post("/accounts/password/reset/", {"email": f"n{n}@example.org"}).status_code
        for n in range(limit + 1)
    ]
    assert statuses == [302] * limit + [429]
    other_address = client.post(
        "/accounts/password/reset/", {"email": "x@example.org"}, REMOTE_ADDR="10.0.0.2"
    )
    assert other_address.status_code == 302


def test_reset_throttle_opens_again_in_the_next_window(db):
    start = 1_000 * accounts.RESET_WINDOW
    for _ in range(accounts.RESET_LIMITS["email"]):
        assert accounts.reset_wait("10.0.0.1", "a@example.org", now=start) == 0
    assert accounts.reset_wait("10.0.0.1", "a@example.org", now=start + 60) == (
        accounts.RESET_WINDOW - 60
    )
    assert accounts.reset_wait("10.0.0.1", "a@example.org", now=start + accounts.RESET_WINDOW) == 0


# Deleting an account.


def every_kind_of_row(user, items) -> None:
    """One of each thing a person owns: a save of each kind (and so counts), a removed save
    kept for Undo, and an import."""
    SavedMovie.objects.create(user=user, movie=items["movie"], note="mine")
    SavedAnime.objects.create(user=user, anime=items["anime"], episode_progress=3)
    SavedManga.objects.create(user=user, manga=items["manga"], chapter_progress=2)
    RemovedSave.objects.create(user=user, kind="movie", item_id=items["movie"].pk, data={})
    Import.objects.create(user=user, filename="list.xml", state=Import.State.DONE)


def owned(user) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(user=user).count()
        for model in (SavedMovie, SavedAnime, SavedManga, SavedCount, RemovedSave, Import)
    }


def test_every_table_that_refers_to_a_person_deletes_with_them():
    """A model added later with a user column must cascade too, or deleting fails."""
    from django.apps import apps
    from django.db import models

    referring = [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is User
    ]
    assert referring
    assert {f.model.__name__ for f in referring} >= {"SavedMovie", "Import", "RemovedSave"}
    for field in referring:
        assert field.remote_field.on_delete is models.CASCADE, field


def test_delete_account_takes_everything_and_signs_out(auth_client, user, other_user, items):
    every_kind_of_row(user, items)
    every_kind_of_row(other_user, items)
    before = owned(user)
    assert all(before.values()), before
    page = html(auth_client.get("/accounts/delete/"))
    assert "3 saves" in page and "1 import" in page

    response = auth_client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 303 and response["Location"] == "/"
    assert response["Clear-Site-Data"] == '"cache", "storage"'  # the offline copies go too
    assert not User.objects.filter(pk=user.pk).exists()
    assert set(owned(user).values()) == {0}
    assert owned(other_user) == before  # the other person's, untouched
    assert signed_in_as(auth_client) is None
    assert "The account ada and everything in it were deleted." in html(auth_client.get("/"))
    assert authenticate(username="ada", password=PASSWORD) is None


@pytest.mark.parametrize("password", ["wrong", ""])
def test_delete_account_with_a_wrong_password_deletes_nothing(auth_client, user, items, password):
    every_kind_of_row(user, items)
    before = owned(user)
    response = auth_client.post("/accounts/delete/", {"password": password})
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()
    assert owned(user) == before
    assert signed_in_as(auth_client) == user


def test_delete_account_while_an_import_is_being_applied(auth_client, user, items):
    imp = Import.objects.create(user=user, filename="list.xml", state=Import.State.APPLYING)
    response = auth_client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 303
    assert not Import.objects.exists()
    # The worker then finds nothing to apply, and writes nothing.
    assert importing.apply_import.call(imp.pk, "keep") == {}
    assert not SavedMovie.objects.exists()


def test_the_only_administrator_cannot_delete_their_account(client, db):
    admin = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "only administrator" in html(response)
    assert User.objects.filter(pk=admin.pk).exists()
    User.objects.create_superuser("root2", password=PASSWORD)
    assert client.post("/accounts/delete/", {"password": PASSWORD}).status_code == 303


# Usernames in any case.


def test_signup_refuses_a_name_taken_in_another_case(client, user):
    response = client.post("/accounts/signup/", {**SIGNUP, "username": "ADA"})
    assert response.status_code == 400
    assert "That username is taken." in html(response)
    assert User.objects.count() == 1


def test_the_database_refuses_a_name_taken_in_another_case(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("Ada", password=PASSWORD)


@pytest.mark.parametrize("typed", ["ada", "ADA", "aDa"])
def test_sign_in_accepts_the_name_in_any_case(client, user, typed):
    response = client.post("/accounts/login/", {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(client) == user


def test_sign_in_still_needs_the_password(client, user):
    response = client.post("/accounts/login/", {"username": "ADA", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html(response)
    assert signed_in_as(client) is None


# Signing up: e-mail optional, twice, closed.


def test_signup_takes_an_optional_email(client, db):
    page = html(client.get("/accounts/signup/"))
    assert ">E-mail (optional)</label>" in page
    client.post("/accounts/signup/", {**SIGNUP, "email": "lin@example.org"})
    Client().post("/accounts/signup/", {**SIGNUP, "username": "kim"})
    assert dict(User.objects.values_list("username", "email")) == {
        "lin": "lin@example.org",
        "kim": "",
    }


def test_the_same_signup_posted_twice_makes_one_account_and_signs_in_twice(db):
    first, second = Client(), Client()
    assert first.post("/accounts/signup/", SIGNUP).status_code == 303
    response = second.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 303 and response["Location"] == "/saved/"
    assert User.objects.count() == 1
    assert signed_in_as(second) == User.objects.get()
    assert "You already have this account, lin" in html(second.get("/saved/"))


def test_a_second_signup_with_another_password_is_told_the_name_is_taken(db):
    Client().post("/accounts/signup/", SIGNUP)
    other = {**SIGNUP, "password1": "another-passphrase", "password2": "another-passphrase"}
    client = Client()
    response = client.post("/accounts/signup/", other)
    assert response.status_code == 400
    assert "That username is taken." in html(response)
    assert signed_in_as(client) is None


def test_a_signup_that_loses_the_race_at_the_database(client, db, monkeypatch):
    """The form found the name free, but another post created it before this one's insert:
    the unique index refuses it, and the request still answers (signed in, as the password
    is that account's)."""
    Client().post("/accounts/signup/", SIGNUP)
    monkeypatch.setattr(accounts, "user_named", lambda name: None)  # the form's check only
    response = client.post("/accounts/signup/", {**SIGNUP, "username": "LIN"})
    assert response.status_code == 303
    assert User.objects.count() == 1
    assert signed_in_as(client) == User.objects.get()
    wrong = {**SIGNUP, "username": "LIN", "password1": "x-other-pass", "password2": "x-other-pass"}
    response = Client().post("/accounts/signup/", wrong)
    assert response.status_code == 400
    assert "That username is taken." in html(response)


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_make_one_account_and_never_fail():
    threads = 8
    barrier = threading.Barrier(threads)
    statuses, errors = [], []

    def post(n: int) -> None:
        try:
            client = Client()
            client.get("/accounts/signup/")
            data = (
                SIGNUP
                if n % 2
                else {**SIGNUP, "password1": "pw-other-1", "password2": "pw-other-1"}
            )
            barrier.wait(timeout=30)
            statuses.append(client.post("/accounts/signup/", data).status_code)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=post, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert len(statuses) == threads and set(statuses) <= {303, 400}
    assert User.objects.count() == 1


def test_closed_signups_offer_and_make_nothing(client, db, settings):
    settings.SHELF_SIGNUPS = "closed"
    page = client.get("/accounts/signup/")
    assert page.status_code == 403
    assert "Sign-up is closed" in html(page)
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 403
    assert not User.objects.exists()
    for path in ("/", "/accounts/login/"):
        assert "/accounts/signup/" not in html(client.get(path)), path
    settings.SHELF_SIGNUPS = "open"
    assert "/accounts/signup/" in html(client.get("/accounts/login/"))


def test_signups_setting_takes_open_or_closed_only(monkeypatch):
    import importlib

    import project.settings

    monkeypatch.setenv("SHELF_SIGNUPS", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SHELF_SIGNUPS"):
        importlib.reload(project.settings)
    monkeypatch.setenv("SHELF_SIGNUPS", " Closed ")
    assert importlib.reload(project.settings).SHELF_SIGNUPS == "closed"
    monkeypatch.delenv("SHELF_SIGNUPS")
    importlib.reload(project.settings)


# Passwords made of spaces.


@pytest.mark.parametrize("password", ["        ", "\t \u00a0    \u3000 "])
def test_whitespace_passwords_are_refused_everywhere(client, user, password):
    message = "Your password cannot be only spaces."
    data = {**SIGNUP, "password1": password, "password2": password}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 400 and message in html(response)
    assert not User.objects.filter(username="lin").exists()

    client.force_login(user)
    change = {"old_password": PASSWORD, "new_password1": password, "new_password2": password}
    response = client.post("/accounts/password/", change)
    assert response.status_code == 400 and message in html(response)
    client.logout()

    user.email = "ada@example.org"
    user.save()
    client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    form = client.get(reset_link(mail.outbox[-1]), follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert response.status_code == 400 and message in html(response)
    assert authenticate(username="ada", password=PASSWORD) == user


def test_whitespace_validator_lets_spaces_inside_a_password():
    validator = NotOnlyWhitespaceValidator()
    validator.validate("  two words  ")
    with pytest.raises(ValidationError):
        validator.validate(" \n ")


# Passwords stay out of error reports.


@pytest.mark.parametrize(
    ("view", "fields"),
    [
        (account_views.signup, {"password1", "password2"}),
        (account_views.account, {"password"}),
        (account_views.delete, {"password"}),
        # Django's own views hide every field.
        (account_views.PasswordChange.as_view(), {"old_password", "new_password1", "username"}),
    ],
)
def test_views_that_take_passwords_hide_them_from_error_reports(user, view, fields):
    data = {"username": "lin"} | dict.fromkeys(fields, "s3cret-value")
    request = RequestFactory().post("/", data)
    request._dont_enforce_csrf_checks = True
    request.user = user if "password1" not in fields else AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    view(request)
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    for field in fields:
        assert shown[field] != "s3cret-value", field
    if "username" not in fields:
        assert shown["username"] == "lin"  # only the passwords


# Mail settings.


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "file:///var/mail/shelf",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": "/var/mail/shelf",
            },
        ),
        (
            "smtp://me%40example.org:p%3Ass@mail.example.org:587/?tls=1",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "me@example.org",
                "EMAIL_HOST_PASSWORD": "p:ss",
                "EMAIL_USE_SSL": False,
                "EMAIL_USE_TLS": True,
            },
        ),
        (
            "smtps://mail.example.org",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 465,
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
                "EMAIL_USE_SSL": True,
                "EMAIL_USE_TLS": False,
            },
        ),
    ],
)
def test_email_url_gives_django_settings(url, expected):
    assert email_settings(url) == expected


@pytest.mark.parametrize(
    "url", ["mailto:someone@example.org", "smtp://", "file://", "smtp://host:port/"]
)
def test_a_wrong_email_url_says_what_is_wrong(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings(url)


# The migration, on a database with names that differ only in case.


@pytest.mark.django_db(transaction=True)
def test_migration_renames_later_case_twins_and_then_refuses_new_ones():
    before, after = [("media", "0010_import")], [("media", "0011_usernames_unique_in_any_case")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("auth", "User")
    for name in ("name", "NAME", "name-2", "Name", "other"):
        old.objects.create(username=name)
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        names = list(User.objects.order_by("pk").values_list("username", flat=True))
        assert names == ["name", "NAME-3", "name-2", "Name-4", "other"]
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="nAmE")
        executor = MigrationExecutor(connection)
        executor.migrate(before)  # reversible: the index goes
        User.objects.create(username="nAmE")
        # The model of that state: today's would cascade to tables of later migrations.
        old.objects.filter(username="nAmE").delete()
    finally:
        latest = MigrationExecutor(connection)
        latest.migrate(latest.loader.graph.leaf_nodes())


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locks_saves_first", [False, True])
def test_delete_account_while_a_write_of_theirs_is_in_flight(user, items, locks_saves_first):
    """As an import being applied does: a transaction that (maybe locks the person's saves,
    then) adds a save, and commits a moment later. The delete waits for it, or it fails;
    either way the delete answers, and nothing of the person is left."""
    SavedAnime.objects.create(user=user, anime=items["anime"])
    started, outcome = threading.Event(), []

    def write() -> None:
        try:
            with transaction.atomic():
                if locks_saves_first:
                    list(SavedAnime.objects.select_for_update().filter(user=user))
                else:
                    SavedManga.objects.create(user=user, manga=items["manga"])
                started.set()
                threading.Event().wait(0.5)
                SavedMovie.objects.create(user=user, movie=items["movie"])
            outcome.append("committed")
        except Exception as error:  # noqa: BLE001 - the writer may lose; the test says how
            outcome.append(type(error).__name__)
        finally:
            started.set()
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(10)
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    writer.join(timeout=30)
    assert response.status_code == 303
    assert set(owned(user).values()) == {0}
    assert not User.objects.filter(pk=user.pk).exists()
    assert outcome and outcome[0] in {"committed", "IntegrityError", "OperationalError"}


def test_the_admin_refuses_a_name_taken_in_another_case(client, user, other_user):
    admin = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    url = f"/admin/auth/user/{other_user.pk}/change/"
    form = {
        "username": "ADA",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "12:00:00",
        "is_active": "on",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "That username is taken." in html(response)
    other_user.refresh_from_db()
    assert other_user.username == "grace"
    response = client.post(url, {**form, "username": "GRACE"})  # a new case of one's own
    assert response.status_code == 302
    other_user.refresh_from_db()
    assert other_user.username == "GRACE"
    response = client.post("/admin/auth/user/add/", {"username": "Ada", "usable_password": "false"})
    assert "That username is taken." in html(response) or "already exists" in html(response)
    assert User.objects.count() == 3


def test_the_last_two_administrators_cannot_both_go(client, db, monkeypatch):
    """The only-administrator rule is checked again inside the delete's transaction: another
    administrator deleting theirs after this form was checked does not leave Shelf without."""
    root = User.objects.create_superuser("root", password=PASSWORD)
    other = User.objects.create_superuser("root2", password=PASSWORD)
    client.force_login(root)
    real = accounts.delete_account

    def after_the_other(user):
        User.objects.filter(pk=other.pk).delete()  # the other one's delete, just before
        return real(user)

    monkeypatch.setattr(account_views, "delete_account", after_the_other)
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "only administrator" in html(response)
    assert User.objects.filter(pk=root.pk).exists()
    assert signed_in_as(client) == root
