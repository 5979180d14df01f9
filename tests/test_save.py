"""The save endpoint: htmx and plain paths, idempotence, safety, error statuses."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import HTMX, save_url, saved_rows


def test_htmx_save_returns_the_unsave_button_partial(auth_client, user, kind, items):
    item = items[kind.key]
    response = auth_client.post(save_url(kind, item), {"intent": "save"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div class="save-control"')
    assert ">Unsave</button>" in html
    assert 'name="intent" value="unsave"' in html
    assert saved_rows(kind, user, item).count() == 1


def test_htmx_unsave_returns_the_save_button_partial(auth_client, user, kind, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    response = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert ">Save</button>" in html
    assert not saved_rows(kind, user, item).exists()


def test_htmx_answer_is_small(auth_client, items):
    response = auth_client.post(save_url(*_movie(items)), {"intent": "save"}, **HTMX)
    assert len(response.content) < 1024


def _movie(items):
    from media.kinds import KINDS

    return KINDS["movie"], items["movie"]


def test_plain_save_redirects_303_to_next(auth_client, user, kind, items):
    item = items[kind.key]
    response = auth_client.post(save_url(kind, item), {"intent": "save", "next": "/saved/?kind=x"})
    assert response.status_code == 303
    assert response["Location"] == "/saved/?kind=x"
    assert saved_rows(kind, user, item).count() == 1


def test_plain_save_without_next_redirects_to_the_item(auth_client, kind, items):
    item = items[kind.key]
    response = auth_client.post(save_url(kind, item), {"intent": "save"})
    assert response.status_code == 303
    assert response["Location"] == item.get_absolute_url()


def test_plain_unsave_redirects_and_removes(auth_client, user, kind, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    response = auth_client.post(save_url(kind, item), {"intent": "unsave", "next": "/saved/"})
    assert (response.status_code, response["Location"]) == (303, "/saved/")
    assert not saved_rows(kind, user, item).exists()
    page = auth_client.get(response["Location"])
    assert "Removed “" in page.content.decode()


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_repeated_saves_leave_one_row(auth_client, user, kind, items, headers):
    item = items[kind.key]
    for _ in range(3):
        response = auth_client.post(save_url(kind, item), {"intent": "save"}, **headers)
        assert response.status_code in (200, 303)
    assert saved_rows(kind, user, item).count() == 1


def test_repeated_unsave_is_harmless(auth_client, user, kind, items):
    item = items[kind.key]
    for _ in range(2):
        response = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX)
        assert response.status_code == 200
    assert not saved_rows(kind, user, item).exists()


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/steal",
        "//evil.example",
        "///evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "\\\\evil.example",
    ],
)
def test_unsafe_next_is_ignored(auth_client, items, unsafe):
    kind, item = _movie(items)
    response = auth_client.post(save_url(kind, item), {"intent": "save", "next": unsafe})
    assert response.status_code == 303
    assert response["Location"] == item.get_absolute_url()


def test_one_user_cannot_unsave_anothers_row(auth_client, other_user, kind, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=other_user, **{kind.item_field: item})
    response = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX)
    assert response.status_code == 200
    assert saved_rows(kind, other_user, item).count() == 1


def test_unknown_kind_is_404(auth_client, items):
    response = auth_client.post(f"/save/nosuchkind/{items['movie'].pk}/", {"intent": "save"})
    assert response.status_code == 404


def test_unknown_item_is_404(auth_client, kind, items):
    response = auth_client.post(f"/save/{kind.key}/999999/", {"intent": "save"}, **HTMX)
    assert response.status_code == 404
    assert not kind.saved_model.objects.exists()


def test_get_is_405(auth_client, kind, items):
    response = auth_client.get(save_url(kind, items[kind.key]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_missing_csrf_token_is_403_and_saves_nothing(user, kind, items):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(save_url(kind, items[kind.key]), {"intent": "save"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not kind.saved_model.objects.exists()


def test_csrf_token_from_the_page_is_accepted(user, items):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    kind, item = _movie(items)
    page = client.get(item.get_absolute_url())
    token = page.context["csrf_token"]
    response = client.post(save_url(kind, item), {"intent": "save", "csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert kind.saved_model.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [{"intent": ""}, {"intent": "toggle"}, {"intent": "SAVE"}, {"intent": "undo"},
     {"intent": "undo", "removal": "0"}, {"intent": "undo", "removal": str(2**63)},
     {"intent": "undo", "removal": "-3"}, {"intent": "undo", "removal": "\u00b2"},
     {"intent": "undo", "removal": "\u0661"}, {"intent": "save", "removal": "abc"}],
)  # fmt: skip
def test_intent_must_be_save_unsave_or_undo_of_a_removal(auth_client, kind, items, data):
    response = auth_client.post(save_url(kind, items[kind.key]), data)
    assert response.status_code == 400
    assert "neither save, unsave nor undo" in response.content.decode()
    assert not kind.saved_model.objects.exists()


def test_anonymous_plain_post_goes_to_login_and_back_to_the_item(client, kind, items):
    item = items[kind.key]
    response = client.post(save_url(kind, item), {"intent": "save"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={item.get_absolute_url()}"
    assert not kind.saved_model.objects.exists()


def test_anonymous_htmx_post_gets_hx_redirect_to_login(client, kind, items):
    item = items[kind.key]
    response = client.post(save_url(kind, item), {"intent": "save"}, **HTMX)
    assert response.status_code == 200  # htmx follows HX-Redirect on a success only
    assert response["HX-Redirect"] == f"/accounts/login/?next={item.get_absolute_url()}"
    assert not kind.saved_model.objects.exists()


def test_login_returns_to_the_item(client, user, items):
    item = items["movie"]
    response = client.post(
        "/accounts/login/",
        {"username": "ada", "password": "correct horse battery", "next": item.get_absolute_url()},
    )
    assert response.status_code == 302
    assert response["Location"] == item.get_absolute_url()


@pytest.mark.parametrize("odd", ["/saved/" + "x" * 3000, "/saved/\x00", "/saved/\nSet-Cookie: a=b"])
def test_odd_next_is_dropped_not_an_error(auth_client, items, odd):
    kind, item = _movie(items)
    response = auth_client.post(save_url(kind, item), {"intent": "save", "next": odd})
    assert (response.status_code, response["Location"]) == (303, item.get_absolute_url())
    assert kind.saved_model.objects.count() == 1


@pytest.mark.parametrize("pk", ["0", "9" * 19, "9" * 30])
def test_save_of_an_id_no_item_can_have_is_404(auth_client, pk):
    for headers in ({}, HTMX):
        response = auth_client.post(f"/save/movie/{pk}/", {"intent": "save"}, **headers)
        assert response.status_code == 404
