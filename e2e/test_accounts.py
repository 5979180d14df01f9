"""Managing an account in a browser, by keyboard, with JavaScript on and off: change the
password, reset a forgotten one by the mailed link, delete the account, set the e-mail; the
same sign-up sent twice, and names in any case.

The live server runs in the tests' process, so the reset mail lands in django.core.mail.outbox
(the tests' settings send mail there), and the reset task runs as it is queued."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import RequestFactory
from playwright.sync_api import Page, expect

from e2e.conftest import PASSWORD, Visitor
from e2e.test_journey import JS_MODES
from e2e.test_keyboard import assert_ring, tab_to
from e2e.test_tracking import sign_in
from media.models import SavedAnime, SavedMovie

NEW_PASSWORD = "another-e2e-Passphrase"


def authenticate(username: str, password: str):
    """Django's authenticate() as the sign-in page calls it: with a request, which the sign-in
    throttle (django-axes, the first backend) needs."""
    return django_authenticate(
        RequestFactory().post("/accounts/login/"), username=username, password=password
    )


def type_into(page: Page, label: str, text: str) -> None:
    """Tab to the field labelled `label` and type `text` into it, as a keyboard user does."""
    tab_to(page, page.get_by_label(label, exact=True))
    assert_ring(page)
    page.keyboard.type(text)


def open_account(page: Page) -> None:
    """From any page: the name in the header is the way to the account page."""
    link = page.get_by_role("link", name=re.compile("^Your account: "))
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()


def unexpected(visitor: Visitor, *allowed: str) -> list[str]:
    """The page's problems, less the refusals (a status) the test provoked on purpose; the
    browser logs each of those as a console error too."""
    return [
        problem
        for problem in visitor.traffic.problems
        if not any(
            f"{status} for POST" in problem or f"status of {status}" in problem
            for status in allowed
        )
    ]


@pytest.mark.parametrize("js", JS_MODES)
def test_change_password_by_keyboard(js, visit, live_server, member):
    base = live_server.url
    visitor: Visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/saved/")

    open_account(page)
    tab_to(page, page.get_by_role("link", name="Change your password"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Old password")).to_be_focused()  # the form is the page
    page.keyboard.type("not-my-password")
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "New password confirmation", NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".field-error")).to_contain_text("old password was entered incorrectly")

    page.get_by_label("Old password").focus()
    page.keyboard.type(PASSWORD)
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "New password confirmation", NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in
    assert authenticate(username=member.username, password=NEW_PASSWORD) == member
    assert not unexpected(visitor, 400), visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_reset_a_forgotten_password_by_the_mailed_link(js, visit, live_server, member):
    base = live_server.url
    get_user_model().objects.filter(pk=member.pk).update(email="grace@example.org")
    visitor: Visitor = visit(js=js)
    page = visitor.page

    page.goto(f"{base}/accounts/login/")
    tab_to(page, page.get_by_role("link", name="Forgot your password?"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    type_into(page, "E-mail", "Grace@Example.org")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(base)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "New password confirmation", NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()

    tab_to(page, page.get_by_role("main").get_by_role("link", name="Sign in"))
    page.keyboard.press("Enter")
    type_into(page, "Username", member.username.upper())  # any case signs in
    type_into(page, "Password", NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/saved/")
    expect(page.get_by_role("link", name=f"Your account: {member.username}")).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_delete_the_account_after_the_password(js, visit, live_server, catalog, member):
    base = live_server.url
    SavedMovie.objects.create(user=member, movie=catalog["spirited"].item)
    SavedAnime.objects.create(user=member, anime=catalog["bebop"].item, episode_progress=2)
    visitor: Visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/saved/")

    open_account(page)
    tab_to(page, page.get_by_role("link", name="Delete your account"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("2 saves")
    type_into(page, "Your password", "not-my-password")
    page.keyboard.press("Enter")
    expect(page.locator(".field-error")).to_have_text("That is not your password.")
    assert SavedMovie.objects.filter(user=member).exists()

    type_into(page, "Your password", PASSWORD)
    tab_to(page, page.get_by_role("button", name="Delete my account"))
    assert_ring(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("status").filter(has_text="deleted")).to_contain_text(
        f"The account {member.username} and everything in it were deleted."
    )
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not get_user_model().objects.filter(pk=member.pk).exists()
    assert not SavedMovie.objects.exists() and not SavedAnime.objects.exists()
    assert not unexpected(visitor, 400), visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_set_the_email_on_the_account_page(js, visit, live_server, member):
    base = live_server.url
    visitor: Visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/saved/")
    open_account(page)
    type_into(page, "E-mail address", "ada@example.com")
    type_into(page, "Your password", "not-my-password")
    page.keyboard.press("Enter")
    expect(page.locator(".field-error")).to_have_text("That is not your password.")
    member.refresh_from_db()
    assert member.email == ""

    page.get_by_label("E-mail address", exact=True).fill("ada@example.com")
    type_into(page, "Your password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="e-mail")).to_contain_text(
        "Your e-mail address is now ada@example.com."
    )
    member.refresh_from_db()
    assert member.email == "ada@example.com"
    assert not unexpected(visitor, 400), visitor.traffic.problems


def fill_sign_up(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password confirmation", exact=True).fill(NEW_PASSWORD)


@pytest.mark.parametrize("js", JS_MODES)
def test_the_same_sign_up_twice_makes_one_account_and_names_sign_in_in_any_case(
    js, visit, live_server, transactional_db
):
    """The sign-up form sent twice (here from two windows, both filled before either is sent)
    makes one account: the second lands signed in to it. Then the name works in any case."""
    base = live_server.url
    first, second = visit(js=js), visit(js=js)
    fill_sign_up(first.page, base, "Grace")
    fill_sign_up(second.page, base, "Grace")
    first.page.get_by_role("button", name="Create account").click()
    expect(first.page).to_have_url(f"{base}/saved/")
    second.page.get_by_role("button", name="Create account").click()
    expect(second.page).to_have_url(f"{base}/saved/")
    expect(second.page.get_by_role("status").first).to_contain_text(
        "You already have this account, Grace: you are signed in."
    )
    assert get_user_model().objects.filter(username__iexact="grace").count() == 1

    # Someone else cannot take the name in another case.
    third = visit(js=js)
    fill_sign_up(third.page, base, "GRACE")
    third.page.get_by_label("Password", exact=True).fill("a-different-Passw0rd")
    third.page.get_by_label("Password confirmation", exact=True).fill("a-different-Passw0rd")
    third.page.get_by_role("button", name="Create account").click()
    expect(third.page.locator(".field-error").first).to_have_text("That username is taken.")
    assert get_user_model().objects.filter(username__iexact="grace").count() == 1

    # Signing in takes the name in any case.
    page = third.page
    page.goto(f"{base}/accounts/login/?next=/saved/")
    page.get_by_label("Username").fill("gRACE")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/saved/")
    expect(page.get_by_role("link", name="Your account: Grace")).to_be_visible()
    for visitor in (first, second):
        assert not visitor.traffic.problems, visitor.traffic.problems
    assert not unexpected(third, 400), third.traffic.problems
