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

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SERIAL = itertools.count()
CURSOR = Cursor(T0, "movie", 1).encode()


def make_saves(user, count: int, start: datetime = T0) -> list[tuple[str, str]]:
    """`count` saves cycling through the kinds, one minute apart; newest last.

    Returns (kind, title) pairs, newest first, as the dashboard should list them.
    """
    made = []
    for n in range(count):
        key = list(KINDS)[n % len(KINDS)]
        kind = KINDS[key]
        item = kind.item_model.objects.create(title=f"{kind.label} {next(SERIAL):04d}", year=2000)
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
    make_saves(user, len(KINDS))
    html = auth_client.get("/saved/").content.decode()
    for key, kind in KINDS.items():
        item = kind.item_model.objects.get()
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


# The session, the user, the feed's one statement and the counts, whatever the page holds.
DASHBOARD_QUERIES = 4


@pytest.mark.parametrize("url", ["/saved/", *(f"/saved/?kind={key}" for key in KINDS)])
def test_query_count_does_not_grow_with_saves(
    auth_client, user, other_user, django_assert_num_queries, url
):
    make_saves(user, len(KINDS))  # one of each kind
    make_saves(other_user, 3)
    few = query_count(auth_client, url)
    assert few == DASHBOARD_QUERIES
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
    expected = make_saves(user, 25 * len(KINDS))  # 25 of each kind: two pages of movies
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
        ("kind=nosuchkind", "Select a valid choice"),
        ("before=garbage", "This page link is not valid."),
        ("after=" + Cursor(1, "nosuchkind", 1).encode(), "This page link is not valid."),
        ("before=" + Cursor(10**30, "movie", 1).encode(), "This page link is not valid."),
        ("sort=title&before=" + Cursor(5, "movie", 1).encode(), "This page link is not valid."),
        ("sort=score&before=" + Cursor("x", "movie", 1).encode(), "This page link is not valid."),
        ("before=" + Cursor(1, "movie", "1").encode(), "This page link is not valid."),
        ("before=" + Cursor(1, [], 1).encode(), "This page link is not valid."),
        ("before=" + Cursor(1, {}, 1).encode(), "This page link is not valid."),
        ("sort=title&before=" + Cursor("a\x00b", "movie", 1).encode(), "not valid"),
        # Numbers and strings no database column can hold or compare: 400, never 500.
        ("sort=score&before=" + Cursor(2**31, "movie", 1).encode(), "not valid"),
        ("sort=score&before=" + Cursor(2**63, "movie", 1).encode(), "not valid"),
        ("sort=score&before=" + Cursor(-1, "movie", 1).encode(), "not valid"),
        ("sort=score&before=" + Cursor(11, "movie", 1).encode(), "not valid"),
        ("sort=title&before=" + Cursor("\ud800", "movie", 1).encode(), "not valid"),
        ("sort=title&before=" + Cursor("x" * 201, "movie", 1).encode(), "not valid"),
        ("before=" + Cursor(1, "movie", 2**63).encode(), "not valid"),
        ("before=" + Cursor(1, "movie", 0).encode(), "not valid"),
        ("before=" + Cursor(2**63, "movie", 1).encode(), "not valid"),
        ("status=watching", "Select a valid choice"),
        ("sort=random", "Select a valid choice"),
        (f"before={CURSOR}&after={CURSOR}", "either"),
    ],
)
def test_bad_query_is_400_with_a_message(auth_client, user, query, message):
    response = auth_client.get(f"/saved/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def set_tracking(kind_key: str, title: str, **values) -> None:
    kind = KINDS[kind_key]
    kind.saved_model.objects.filter(**{f"{kind.item_field}__title": title}).update(**values)


@pytest.fixture
def tracked(user):
    """Six saves with statuses, scores and update times set; newest saved first."""
    made = make_saves(user, 6)
    plan = {
        made[0][1]: {"status": "completed", "score": 7},
        made[1][1]: {"status": "in_progress", "score": 9},
        made[2][1]: {"status": "completed", "score": None},
        made[3][1]: {"status": "dropped", "score": 2},
        made[4][1]: {"status": "planned", "score": 9},
        made[5][1]: {"status": "planned", "score": None},
    }
    for n, (key, title) in enumerate(made):
        set_tracking(key, title, updated=T0 + timedelta(days=10 - abs(n - 3)), **plan[title])
    return made


def test_status_filter_and_counts(auth_client, tracked):
    response = auth_client.get("/saved/?status=completed")
    assert titles(response) == [tracked[0][1], tracked[2][1]]
    html = response.content.decode()
    for label, count in (("Completed", 2), ("Planned", 2), ("In progress", 1), ("Dropped", 1)):
        assert f'{label} <span class="count">{count}</span>' in html
    assert 'Any status <span class="count">6</span>' in html
    empty = auth_client.get("/saved/?status=on_hold")
    assert "Nothing here with that status" in empty.content.decode()


def test_counts_follow_the_kind_filter(auth_client, tracked):
    html = auth_client.get("/saved/?kind=movie").content.decode()
    movies = [title for key, title in tracked if key == "movie"]
    assert f'Any status <span class="count">{len(movies)}</span>' in html


def test_sort_by_title_score_and_update(auth_client, tracked):
    all_titles = [title for _, title in tracked]
    assert titles(auth_client.get("/saved/?sort=title")) == sorted(all_titles)
    rank = {key: position for position, key in enumerate(KINDS)}
    rows = []
    for key, title in tracked:
        kind = KINDS[key]
        saved = kind.saved_model.objects.get(**{f"{kind.item_field}__title": title})
        rows.append((saved.score or 0, saved.updated, rank[key], saved.pk, title))
    # Highest score first, unscored last; ties go by the kind's place (last first), then id.
    by_score = [row[-1] for row in sorted(rows, key=lambda r: (r[0], r[2], r[3]), reverse=True)]
    assert titles(auth_client.get("/saved/?sort=score")) == by_score
    assert set(by_score[:2]) == {all_titles[1], all_titles[4]}  # the two nines
    by_update = [row[-1] for row in sorted(rows, key=lambda r: (r[1], r[2], r[3]), reverse=True)]
    assert titles(auth_client.get("/saved/?sort=updated")) == by_update


@pytest.mark.parametrize("sort", ["title", "score", "updated", "saved"])
def test_every_sort_pages_through_every_save_once(auth_client, user, sort):
    """Walking Next page by page gives the same order as one long page."""
    made = make_saves(user, 47)
    for n, (key, title) in enumerate(made):
        set_tracking(key, title, score=(n % 4) * 3 or None, updated=T0 + timedelta(hours=n % 5))
    seen, url = [], f"/saved/?sort={sort}"
    while url:
        response = auth_client.get(url)
        seen += titles(response)
        url = link(response, "next")
    assert sorted(seen) == sorted(title for _, title in made)
    assert len(seen) == 47
    one_page = saved_feed(user, per_page=47, sort=sort)
    assert seen == [entry.saved.item.title for entry in one_page.entries]


@pytest.mark.parametrize("query", ["?status=planned&sort=title", "?kind=anime&sort=score"])
def test_filtered_and_sorted_query_count_does_not_grow(
    auth_client, user, django_assert_num_queries, query
):
    make_saves(user, len(KINDS))
    one = query_count(auth_client, "/saved/" + query)
    assert one == DASHBOARD_QUERIES
    make_saves(user, 199, start=T0 + timedelta(days=1))
    KINDS["anime"].saved_model.objects.update(status="planned", score=4)
    with django_assert_num_queries(one):
        response = auth_client.get("/saved/" + query)
    assert response.status_code == 200
    assert len(titles(response)) == 20


def test_entries_show_progress(auth_client, user):
    made = make_saves(user, len(KINDS))
    anime_title = next(title for key, title in made if key == "anime")
    KINDS["anime"].item_model.objects.filter(title=anime_title).update(episodes=26)
    set_tracking("anime", anime_title, episode_progress=12, status="in_progress")
    html = auth_client.get("/saved/").content.decode()
    assert '<progress value="12" max="26"' in html
    assert "12 / 26 episodes" in html
    assert 'role="switch" aria-checked="false"' in html  # the movie's Watched switch


def test_a_stale_link_past_the_end_shows_the_first_page(auth_client, user):
    expected = [title for _, title in make_saves(user, 25)]
    next_page = link(auth_client.get("/saved/"), "next")
    for kind in KINDS.values():  # the last five are removed elsewhere
        kind.saved_model.objects.filter(**{f"{kind.item_field}__title__in": expected[20:]}).delete()
    response = auth_client.get(next_page)
    assert response.status_code == 200
    assert titles(response) == expected[:20]


def test_no_tampered_cursor_is_ever_a_500(auth_client, user):
    """Random tokens and random JSON in the shape of a cursor: 400 or a page, never an error."""
    import base64
    import json
    import random

    make_saves(user, 3)
    rng = random.Random(7)
    values = [
        2**31, 2**63, -(2**63) - 1, 10**400, 1e308, -1, 0, 3.5, True, None, "", "\ud800",
        "\udfff x", "a\x00b", "x" * 1000, [], {}, "2026-01-01", "🎞️" * 60,
    ]  # fmt: skip
    kinds = [*KINDS, "", "nosuchkind", None, 1, []]
    for _ in range(150):
        raw = json.dumps([rng.choice(values), rng.choice(kinds), rng.choice(values)])
        token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        if rng.random() < 0.2:
            token = "".join(rng.choice("AZaz09-_=%+/!") for _ in range(rng.randint(1, 40)))
        sort = rng.choice(["saved", "updated", "title", "score"])
        side = rng.choice(["before", "after"])
        response = auth_client.get("/saved/", {"sort": sort, side: token})
        assert response.status_code in (200, 400), (sort, side, raw)
