"""Sign-in throttling (django-axes with media.security): per account name and per address,
a clear 429 page, no password checked while locked, and ways out (time, success, the admin)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client, RequestFactory

from media.security import client_ip, per_network, username_key

LOGIN = "/accounts/login/"
RIGHT = "correct horse battery"  # the `user` fixture's password
LIMIT = 5


def attempt(client: Client, username: str, password: str = "wrong guess", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, username: str, times: int) -> list[int]:
    return [attempt(client, username).status_code for _ in range(times)]


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="192.0.2.10")


def test_five_failures_lock_the_account_with_a_page_that_says_when(client, user):
    assert fail(client, "ada", LIMIT - 1) == [200] * (LIMIT - 1)
    locked = attempt(client, "ada")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Too many failed sign-ins for this account or from this address." in html
    assert "Try again in 15 minutes" in html
    assert 'role="alert"' in html
    assert 840 <= int(locked["Retry-After"]) <= 900
    # It is the sign-in page, with its form, so the person knows where they are.
    assert '<form method="post" action="/accounts/login/"' in html
    # The right password does not get through while locked.
    right = attempt(client, "ada", RIGHT)
    assert right.status_code == 429
    assert not signed_in(client)


def test_a_locked_attempt_checks_no_password(client, user):
    fail(client, "ada", LIMIT)
    with (
        mock.patch.object(ModelBackend, "authenticate", autospec=True) as backend,
        mock.patch.object(MD5PasswordHasher, "verify", autospec=True) as verify,
        mock.patch.object(MD5PasswordHasher, "encode", autospec=True) as encode,
    ):
        for password in ("wrong guess", RIGHT):
            assert attempt(client, "ada", password).status_code == 429
        # Another account name from the same address is refused the same way.
        assert attempt(client, "nobody").status_code == 429
    assert backend.call_count == verify.call_count == encode.call_count == 0


def test_a_flood_of_locked_attempts_stays_small(client, user, django_assert_max_num_queries):
    fail(client, "ada", LIMIT)
    with django_assert_max_num_queries(8):
        assert attempt(client, "ada").status_code == 429
    # Refused attempts are not counted, so they neither grow the rows nor move the end.
    row = AccessAttempt.objects.get()
    assert row.failures_since_start == LIMIT
    before = row.attempt_time
    fail(client, "ada", 20)
    row.refresh_from_db()
    assert (row.failures_since_start, row.attempt_time) == (LIMIT, before)


def test_account_names_are_counted_without_regard_to_case(client, user):
    statuses = [attempt(client, name).status_code for name in ("Ada", "ADA", "ada", " aDa", "ADa")]
    assert statuses == [200, 200, 200, 200, 429]
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"ada"}


def test_one_address_is_locked_across_account_names(client, user):
    for name in ("a1", "a2", "a3", "a4"):
        assert attempt(client, name).status_code == 200
    assert attempt(client, "a5").status_code == 429
    # Even the right password for a real account is refused from this address...
    assert attempt(client, "ada", RIGHT).status_code == 429
    # ...while the same person elsewhere signs in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    response = attempt(elsewhere, "ada", RIGHT)
    assert response.status_code == 302
    assert signed_in(elsewhere)


def test_one_account_is_locked_across_addresses(user):
    for n in range(LIMIT - 1):
        assert attempt(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), "ada").status_code == 200
    assert attempt(Client(REMOTE_ADDR="203.0.113.99"), "ada").status_code == 429
    fresh = Client(REMOTE_ADDR="203.0.113.100")
    assert attempt(fresh, "ada", RIGHT).status_code == 429
    assert not signed_in(fresh)


def test_success_clears_the_accounts_failures_but_not_the_addresss(client, user, other_user):
    fail(client, "ada", LIMIT - 1)
    assert attempt(client, "ada", RIGHT).status_code == 302
    # A fresh start for the account: four more mistakes are allowed...
    client.logout()
    assert fail(client, "ada", LIMIT - 1) == [200] * (LIMIT - 1)
    # ...and signing in to another account of one's own does not wipe the address's count.
    assert attempt(client, "grace", RIGHT).status_code == 302
    client.logout()
    assert attempt(client, "someone-else").status_code == 429


def test_the_lock_ends_after_the_cool_off(client, user):
    fail(client, "ada", LIMIT)
    assert attempt(client, "ada", RIGHT).status_code == 429
    past = AccessAttempt.objects.get().attempt_time - timedelta(minutes=15, seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert attempt(client, "ada", RIGHT).status_code == 302
    assert signed_in(client)


def test_the_cool_off_follows_the_settings(client, user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    settings.AXES_FAILURE_LIMIT = 2
    assert fail(client, "ada", 2) == [200, 429]
    locked = attempt(client, "ada")
    assert "Try again in 2 minutes" in locked.content.decode()


def test_manage_py_axes_reset_unlocks(client, user):
    fail(client, "ada", LIMIT)
    call_command("axes_reset")
    assert attempt(client, "ada", RIGHT).status_code == 302


def test_the_admin_sees_and_unlocks_an_account(client, user, db):
    fail(client, "ada", LIMIT)
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x-root-pass"))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "ada" in listing.content.decode()
    row = AccessAttempt.objects.get()
    deleted = admin.post(f"/admin/axes/accessattempt/{row.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert attempt(client, "ada", RIGHT).status_code == 302


def test_the_password_is_not_kept_with_the_failures(client, user):
    attempt(client, "ada", "my-secret-guess")
    row = AccessAttempt.objects.get()
    assert "my-secret-guess" not in row.post_data
    assert "my-secret-guess" not in row.get_data


def test_signing_up_works_for_others_during_a_lockout(client, user):
    fail(client, "ada", LIMIT)
    newcomer = Client(REMOTE_ADDR="198.51.100.20")
    response = newcomer.post(
        "/accounts/signup/",
        {"username": "lin", "password1": "a-long-Passphrase-9", "password2": "a-long-Passphrase-9"},
    )
    assert response.status_code == 303
    assert signed_in(newcomer)


def test_the_admin_sign_in_is_throttled_too(client, user):
    get_user_model().objects.create_superuser("root", password="x-root-pass")
    for _ in range(LIMIT - 1):
        response = client.post("/admin/login/", {"username": "root", "password": "nope"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "root", "password": "nope"})
    assert response.status_code == 429
    right = client.post("/admin/login/", {"username": "root", "password": "x-root-pass"})
    assert right.status_code == 429


def test_the_lockout_page_keeps_a_safe_next_only(client, user):
    fail(client, "ada", LIMIT - 1)
    kept = client.post(LOGIN, {"username": "ada", "password": "x", "next": "/saved/"})
    assert 'name="next" value="/saved/"' in kept.content.decode()
    dropped = client.post(LOGIN, {"username": "ada", "password": "x", "next": "https://evil.test/"})
    assert dropped.status_code == 429
    assert "evil.test" not in dropped.content.decode()


# Who is asking.


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.SHELF_TRUSTED_PROXIES = 0
    assert client_ip(request_from("192.0.2.1", "203.0.113.5")) == "192.0.2.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        # The client wrote the left entry itself; our one proxy appended the right one.
        (1, "10.9.9.9, 203.0.113.5", "203.0.113.5"),
        (2, "10.9.9.9, 203.0.113.5, 172.16.0.2", "203.0.113.5"),
        (1, "2001:db8::7", "2001:db8::"),  # IPv6: its /64
        # Not an address, or fewer hops than proxies: the connection's address.
        (1, "not-an-ip", "192.0.2.1"),
        (1, "", "192.0.2.1"),
        (3, "203.0.113.5, 172.16.0.2", "192.0.2.1"),
    ],
)
def test_behind_trusted_proxies_the_outermost_one_says_who(settings, proxies, forwarded, expected):
    settings.SHELF_TRUSTED_PROXIES = proxies
    assert client_ip(request_from("192.0.2.1", forwarded)) == expected


def test_a_forged_forwarded_header_does_not_escape_the_lock(client, user, settings):
    settings.SHELF_TRUSTED_PROXIES = 0
    for n in range(LIMIT - 1):
        attempt(client, f"name{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert attempt(client, "other", HTTP_X_FORWARDED_FOR="203.0.113.77").status_code == 429


def test_behind_a_proxy_each_client_has_its_own_count(user, settings):
    settings.SHELF_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(LIMIT):
        attempt(proxy, f"name{n}", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert attempt(proxy, "x", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # Another visitor through the same proxy is not locked out by the first.
    response = attempt(proxy, "ada", RIGHT, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert response.status_code == 302
    assert AccessAttempt.objects.filter(ip_address="203.0.113.5").exists()


def test_username_key_ignores_case_width_and_spaces():
    request = RequestFactory().post("/", {"username": "  ＡＤＡ "})
    assert username_key(request) == "ada"
    assert username_key(request, {"username": "Straße"}) == "strasse"
    assert username_key(request, {"username": "   "}) is None


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/accounts/delete/", {}),
        ("/accounts/", {"email": "ada@example.com"}),
        (
            "/accounts/password/",
            {"new_password1": "a new one 123", "new_password2": "a new one 123"},
        ),
    ],
)
def test_every_password_check_is_throttled_as_sign_in_is(user, path, fields):
    """A borrowed session cannot guess the password on the forms that ask for it again, and a
    flood of them runs no hasher once locked."""
    client = Client(REMOTE_ADDR="192.0.2.11")
    client.force_login(user)
    field = "old_password" if path.endswith("password/") else "password"
    for _ in range(LIMIT - 1):
        response = client.post(path, {**fields, field: "wrong guess"})
        assert response.status_code == 400
        assert "Too many wrong passwords" not in response.content.decode()
    assert AccessAttempt.objects.filter(username="ada").exists()
    last = client.post(path, {**fields, field: "wrong guess"})
    assert last.status_code == 429 and int(last["Retry-After"]) > 0
    with mock.patch.object(MD5PasswordHasher, "verify", autospec=True) as verify:
        locked = client.post(path, {**fields, field: RIGHT})
    assert verify.call_count == 0
    assert locked.status_code == 429
    # Their own form says so (not the sign-in page), and they are still signed in.
    assert "Too many wrong passwords: try again in a few minutes." in locked.content.decode()
    assert "_auth_user_id" in client.session
    assert get_user_model().objects.filter(username="ada", email="").exists()  # nothing done


def test_sign_ups_from_one_address_are_limited(db):
    client = Client(REMOTE_ADDR="192.0.2.12")
    password = "a fine password 123"
    for n in range(10):
        form = {"username": f"member{n}", "password1": password, "password2": password}
        assert client.post("/accounts/signup/", form).status_code == 303
        client.logout()
    form = {"username": "member10", "password1": password, "password2": password}
    refused = client.post("/accounts/signup/", form)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many accounts were made from this address just now" in refused.content.decode()
    assert not get_user_model().objects.filter(username="member10").exists()
    # Another address is not held up.
    other = Client(REMOTE_ADDR="192.0.2.13")
    assert other.post("/accounts/signup/", form).status_code == 303


def test_an_ipv6_address_counts_by_its_64_network():
    assert (
        per_network("2001:db8:1:2:aaaa::1")
        == per_network("2001:db8:1:2:bbbb::9")
        == ("2001:db8:1:2::")
    )
    assert per_network("2001:db8:1:3::1") != per_network("2001:db8:1:2::1")
    assert per_network("192.0.2.7") == "192.0.2.7"
    assert per_network("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_ip(request_from("2001:db8:1:2:cccc::5")) == "2001:db8:1:2::"


def test_a_failure_that_races_another_is_still_counted_and_never_a_500(client, user):
    """The losing side of two failures racing for one new row (and a success deleting it in
    between) meets the unique constraint once; it is counted again, not answered with 500."""
    from axes.handlers.database import AxesDatabaseHandler
    from django.db import IntegrityError

    real = AxesDatabaseHandler.user_login_failed
    raced = []

    def racing(self, *args, **kwargs):
        if not raced:
            raced.append(True)
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(self, *args, **kwargs)

    with mock.patch.object(AxesDatabaseHandler, "user_login_failed", racing):
        response = attempt(client, "ada")
    assert raced and response.status_code == 200
    assert AccessAttempt.objects.get(username="ada").failures_since_start == 1
