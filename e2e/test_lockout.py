"""Too many wrong passwords, in a real Chromium, JavaScript on and off: the sign-in page says
the account is locked and when to try again, and the right password waits until then."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import PASSWORD
from e2e.test_journey import JS_MODES


@pytest.mark.parametrize("js", JS_MODES)
def test_wrong_passwords_lock_the_account_and_say_until_when(js, visit, live_server, member):
    base = live_server.url
    page = visit(js=js).page
    page.goto(f"{base}/accounts/login/?next=/saved/")
    statuses = []
    for guess in ("guess-1", "guess-2", "guess-3", "guess-4", "guess-5", PASSWORD):
        page.get_by_label("Username").fill("GRACE")  # the account is `grace`: any case counts
        page.get_by_label("Password").fill(guess)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Sign in", exact=True).click()
        statuses.append(answer.value.status)
    assert statuses == [200, 200, 200, 200, 429, 429]
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed sign-ins")
    expect(alert).to_contain_text("Try again in 15 minutes")
    # Still the sign-in page, still on its way to /saved/, and nobody is signed in.
    expect(page).to_have_url(f"{base}/accounts/login/")
    assert page.locator('input[name="next"]').input_value() == "/saved/"
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
