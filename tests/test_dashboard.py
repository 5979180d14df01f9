"""The Saved dashboard: one feed across kinds, newest first, a fixed number of queries."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from media.feed import Cursor, saved_feed
from media.kinds import KINDS
from media.models import Anime, Manga, Movie

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MODELS = {"movie": Movie, "anime": Anime, "manga": Manga}
SERIAL = itertools.count()
CURSOR = Cursor(T0, "movie", 1).encode()


def make_saves(user, count: int, start: datetime = T0) -> list[tuple[str, str]]:
    """`count` saves cycling through the kinds, one minute apart; newest last.

    Returns (kind, title) pairs, newest first, as the dashboard should list them.
    """
    made = []
    for n in range(count):
        key = list(KINDS)[n % 3]
        kind = KINDS[key]
        item = MODELS[key].objects.create(title=f"{kind.label} {next(SERIAL):04d}", year=2000)
        saved = kind.saved_model.objects.create(user=user, **{kind.item_field: item})
        # auto_now_add ignores a value passed to create(); set the time explicitly.
        kind.saved_model.objects.filter(pk=saved.pk).update(created=start + timedelta(minutes=n))
        made.append((key, item.title))
    return made[::-1]


def titles(response) -> list[str]:
    return re.findall(r'class="entry-title" href="[^"]+">([^<]+)</a>', response.content.decode())


def link_href(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return found.group(1) if found else None


def link(response, rel: str) -> str | None:
    """The URL of the page's rel=prev / rel=next link, ready for the test client."""
    href = link_href(response, rel)
    return "/saved/" + href.replace("&amp;", "&") if href else None


def test_requires_sign_in(client, db):
    response = client.get("/saved/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/saved/"


def test_empty_state(auth_client):
    response = auth_client.get("/saved/")
    assert response.status_code == 200
    assert "Your shelf is empty" in response.content.decode()
    filtered = auth_client.get("/saved/?kind=anime")
    assert "No saved anime yet" in filtered.content.decode()


def test_newest_first_across_kinds(auth_client, user):
    expected = make_saves(user, 7)
    response = auth_client.get("/saved/")
    assert titles(response) == [title for _, title in expected]
    html = response.content.decode()
    assert html.count(">Unsave</button>") == 7
    assert 'name="next" value="/saved/"' in html


def test_entries_link_to_their_items(auth_client, user):
    make_saves(user, 3)
    html = auth_client.get("/saved/").content.decode()
    for key, model in MODELS.items():
        item = model.objects.get()
        assert f'href="{item.get_absolute_url()}">{item.title}</a>' in html
        assert f'kind-badge kind-{key}">{KINDS[key].label}<' in html


def test_same_time_saves_have_a_total_order(user):
    make_saves(user, 6)
    for kind in KINDS.values():  # everything saved in the same microsecond
        kind.saved_model.objects.update(created=T0)
    first = saved_feed(user, per_page=4)
    second = saved_feed(user, per_page=4, before=first.next)
    # Ranks and ids break the tie: no entry lost or repeated.
    assert len(first.entries + second.entries) == 6
    assert len({(e.kind.key, e.saved.pk) for e in first.entries + second.entries}) == 6


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/saved/", "/saved/?kind=manga"])
def test_query_count_does_not_grow_with_saves(
    auth_client, user, other_user, django_assert_num_queries, url
):
    make_saves(user, 1)
    make_saves(other_user, 3)
    few = query_count(auth_client, url)
    make_saves(user, 199, start=T0 + timedelta(days=1))
    with django_assert_num_queries(few):
        response = auth_client.get(url)
    assert len(titles(response)) == 20


def test_pagination_walks_every_save_once(auth_client, user):
    expected = [title for _, title in make_saves(user, 45)]
    seen, url, pages = [], "/saved/", 0
    while url:
        response = auth_client.get(url)
        pages += 1
        seen += titles(response)
        url = link(response, "next")
    assert pages == 3
    assert seen == expected


def test_newer_link_goes_back_a_page(auth_client, user):
    expected = [title for _, title in make_saves(user, 45)]
    page1 = auth_client.get("/saved/")
    assert link(page1, "prev") is None
    page2 = auth_client.get(link(page1, "next"))
    assert titles(page2) == expected[20:40]
    back = auth_client.get(link(page2, "prev"))
    assert titles(back) == expected[:20]


def test_kind_filter(auth_client, user):
    expected = make_saves(user, 9)
    response = auth_client.get("/saved/?kind=anime")
    assert titles(response) == [title for key, title in expected if key == "anime"]
    assert 'href="?kind=anime" aria-current="page"' in response.content.decode()


def test_kind_filter_is_kept_across_pages(auth_client, user):
    expected = make_saves(user, 75)
    movies = [title for key, title in expected if key == "movie"]
    page1 = auth_client.get("/saved/?kind=movie")
    assert "kind=movie&amp;" in link_href(page1, "next")
    page2 = auth_client.get(link(page1, "next"))
    assert titles(page1) + titles(page2) == movies


def test_other_peoples_saves_are_not_listed(auth_client, user, other_user):
    make_saves(other_user, 4)
    response = auth_client.get("/saved/")
    assert titles(response) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=book", "Select a valid choice"),
        ("before=garbage", "This page link is not valid."),
        ("after=" + Cursor(1, "book", 1).encode(), "This page link is not valid."),
        ("before=" + Cursor(10**30, "movie", 1).encode(), "This page link is not valid."),
        ("sort=title&before=" + Cursor(5, "movie", 1).encode(), "This page link is not valid."),
        ("sort=score&before=" + Cursor("x", "movie", 1).encode(), "This page link is not valid."),
        ("before=" + Cursor(1, "movie", "1").encode(), "This page link is not valid."),
        ("status=watching", "Select a valid choice"),
        ("sort=random", "Select a valid choice"),
        (f"before={CURSOR}&after={CURSOR}", "either"),
    ],
)
def test_bad_query_is_400_with_a_message(auth_client, user, query, message):
    response = auth_client.get(f"/saved/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
