"""What is special to TV shows: seasons (specials apart), progress as a season and an episode,
+1 rolling over into the next season, and the database's per-season guards."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from media.catalog import apply_record
from media.kinds import KINDS
from media.models import SavedShow, Show, Status
from media.providers import Record
from tests.conftest import HTMX
from tests.test_tracking import refused

SHOW = KINDS["show"]


def seasons(*episodes: int, specials: int | None = None) -> list[dict]:
    """Seasons 1..n with these episodes, and season 0 when there are specials."""
    listed = [{"number": 0, "episodes": specials}] if specials is not None else []
    return listed + [{"number": n, "episodes": e} for n, e in enumerate(episodes, start=1)]


@pytest.fixture
def show(db) -> Show:
    return Show.objects.create(title="Fawlty Towers", year=1975, seasons=seasons(6, 6, specials=2))


@pytest.fixture
def saved(user, show) -> SavedShow:
    return SavedShow.objects.create(user=user, show=show)


def track(client, show, htmx=True, **values):
    """Posts tracking values; with only=..., just those fields (as the +1 button does)."""
    data = {key: str(value) for key, value in values.items() if key != "only"}
    data["only"] = values.get("only", [])
    return client.post(f"/track/show/{show.pk}/", data, **(HTMX if htmx else {}))


def move_to(client, show, season, episode, htmx=True):
    """Posts a place, season and episode, as +1 does (only those two fields)."""
    return track(
        client,
        show,
        htmx,
        only=["season_progress", "episode_progress"],
        season_progress=season,
        episode_progress=episode,
    )


def plus_one(client, saved, htmx=True):
    return move_to(client, saved.show, *saved.next_position, htmx=htmx)


# The catalog: seasons, and the totals that follow them.


def test_totals_follow_the_seasons_with_specials_kept_apart(show):
    assert (show.season_count, show.episodes, show.specials) == (2, 12, 2)
    assert show.regular_seasons == [(1, 6), (2, 6)]
    assert show.fact_texts == ["2 seasons", "12 episodes"]
    show.seasons = seasons(6, 6, 7)
    show.save(update_fields=["seasons"])
    show.refresh_from_db()
    assert (show.season_count, show.episodes) == (3, 19)


@pytest.mark.parametrize(
    "value",
    [
        {"number": 1},
        [{"number": 1}],
        [{"number": 1, "episodes": "6"}],
        [{"number": 1, "episodes": -1}],
        [{"number": 1, "episodes": 6, "extra": 1}],
        [{"number": 1, "episodes": 6}, {"number": 1, "episodes": 3}],
    ],
)
def test_seasons_of_the_wrong_shape_are_refused_with_a_message(show, value):
    show.seasons = value
    with pytest.raises(ValidationError) as error:
        show.full_clean()
    assert "seasons" in error.value.message_dict


def test_unknown_seasons_leave_the_totals_unknown(db):
    show = Show.objects.create(title="Announced", year=2026)
    assert (show.season_count, show.episodes, show.specials) == (None, None, None)


# Progress: a season and an episode.


def test_the_panel_reads_season_episode_and_the_seasons_episodes(saved):
    assert saved.progress_summary == "S1 · E0 of 6"
    saved.season_progress, saved.episode_progress = 2, 5
    assert saved.progress_summary == "S2 · E5 of 6"
    assert (saved.progress, saved.total) == (11, 12)


def test_plus_one_rolls_over_into_the_next_season_and_stops_at_the_end(saved):
    assert saved.next_position == (1, 1)
    saved.season_progress, saved.episode_progress = 1, 6
    assert saved.next_position == (2, 1)
    saved.season_progress, saved.episode_progress = 2, 6
    assert saved.next_position is None


def test_plus_one_skips_a_season_without_episodes_yet(user):
    show = Show.objects.create(title="Gap", year=2020, seasons=seasons(2, 0, 3))
    saved = SavedShow(user=user, show=show, season_progress=1, episode_progress=2)
    assert saved.next_position == (3, 1)


def test_plus_one_goes_on_while_a_seasons_episodes_are_unknown(user):
    show = Show.objects.create(title="Unknown", year=2020)
    saved = SavedShow(user=user, show=show)
    assert saved.next_position == (1, 1)
    saved.season_progress, saved.episode_progress = 1, 40
    assert saved.next_position == (1, 41)
    assert saved.progress_summary == "S1 · E40"


def test_a_position_outside_the_show_is_refused_with_messages(saved):
    saved.season_progress, saved.episode_progress = 3, 1
    with pytest.raises(ValidationError) as error:
        saved.full_clean()
    assert error.value.message_dict["season_progress"] == [
        "Fawlty Towers has 2 seasons: enter a season from 1 to 2."
    ]
    saved.season_progress, saved.episode_progress = 2, 7
    with pytest.raises(ValidationError) as error:
        saved.full_clean()
    assert error.value.message_dict["episode_progress"] == [
        "Season 2 of Fawlty Towers has 6 episodes: enter a number from 0 to 6."
    ]
    saved.season_progress, saved.episode_progress = 0, 3
    with pytest.raises(ValidationError) as error:
        saved.full_clean()
    assert "season_progress" in error.value.message_dict


# The database guards, whatever the path of the write.


def test_the_database_keeps_progress_within_the_seasons_and_the_show(saved, show):
    rows = SavedShow.objects.filter(pk=saved.pk)
    assert refused(rows, season_progress=1, episode_progress=7)  # past season 1's 6
    assert refused(rows, season_progress=3, episode_progress=1)  # past the show's 2 seasons
    assert refused(rows, season_progress=0, episode_progress=1)  # an episode of no season
    assert not refused(rows, season_progress=2, episode_progress=6)
    # A season's episodes, and the season count, may not drop below what is tracked.
    shows = Show.objects.filter(pk=show.pk)
    assert refused(shows, seasons=seasons(6, 5))
    assert refused(shows, season_count=1)
    assert not refused(shows, seasons=seasons(5, 6, 8))  # another season may shrink


def test_the_database_refuses_a_new_row_past_its_season(user, show):
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedShow.objects.create(user=user, show=show, season_progress=1, episode_progress=9)


# Tracking through the site.


def test_plus_one_across_a_season_boundary_then_to_the_end_completes(auth_client, saved):
    saved.season_progress, saved.episode_progress = 1, 6
    saved.save()
    response = plus_one(auth_client, saved)
    assert response.status_code == 200
    assert "S2 · E1 of 6" in response.text
    saved.refresh_from_db()
    assert (saved.position, saved.status) == ((2, 1), Status.IN_PROGRESS)
    saved.episode_progress = 5
    saved.save()
    response = plus_one(auth_client, saved, htmx=False)
    assert response.status_code == 303
    saved.refresh_from_db()
    assert (saved.position, saved.status) == ((2, 6), Status.COMPLETED)
    page = auth_client.get(saved.show.get_absolute_url())
    assert "S2 · E6 of 6" in page.text and "Completed" in page.text
    assert f'id="plus-show-{saved.show.pk}"' not in page.text


def test_plus_one_posted_twice_moves_one_episode(auth_client, saved):
    for _ in range(2):
        move_to(auth_client, saved.show, 1, 1)
    saved.refresh_from_db()
    assert saved.position == (1, 1)


def test_completing_moves_to_the_last_episode_and_going_back_reopens(auth_client, saved):
    response = track(auth_client, saved.show, only=["status"], status="completed")
    assert response.status_code == 200
    saved.refresh_from_db()
    assert (saved.position, saved.status) == ((2, 6), Status.COMPLETED)
    assert "S2 · E6 of 6" in response.text
    assert f'id="plus-show-{saved.show.pk}"' not in response.text  # nothing after the end
    move_to(auth_client, saved.show, 2, 5)
    saved.refresh_from_db()
    assert (saved.position, saved.status) == ((2, 5), Status.IN_PROGRESS)


def test_another_status_at_the_last_episode_is_refused(auth_client, saved):
    saved.season_progress, saved.episode_progress, saved.status = 2, 6, Status.COMPLETED
    saved.save()
    response = track(auth_client, saved.show, only=["status"], status="on_hold")
    assert response.status_code == 422
    assert "go back an episode" in response.text
    saved.refresh_from_db()
    assert saved.status == Status.COMPLETED


@pytest.mark.parametrize("htmx", [True, False])
def test_a_wrong_episode_is_422_by_its_field_and_changes_nothing(auth_client, saved, htmx):
    response = track(
        auth_client, saved.show, htmx, season_progress=1, episode_progress=9, status="planned"
    )
    assert response.status_code == 422
    assert "Season 1 of Fawlty Towers has 6 episodes: enter a number from 0 to 6." in (
        response.text
    )
    saved.refresh_from_db()
    assert saved.position == (0, 0)


def test_the_dashboard_lists_shows_with_their_position(auth_client, saved):
    saved.season_progress, saved.episode_progress, saved.status = 2, 3, Status.IN_PROGRESS
    saved.save()
    page = auth_client.get("/saved/?kind=show")
    assert page.status_code == 200
    assert "Fawlty Towers" in page.text and "S2 · E3 of 6" in page.text
    assert f'id="plus-show-{saved.show.pk}"' in page.text


def test_the_list_lives_at_tv(client, show):
    page = client.get("/tv/")
    assert page.status_code == 200
    assert "Fawlty Towers" in page.text
    assert "TV shows" in page.text


# A refresh keeps a season that shrank below what someone tracked.


def test_a_refresh_takes_new_seasons_but_keeps_a_tracked_season_that_shrank(saved, show, caplog):
    saved.season_progress, saved.episode_progress = 2, 4
    saved.save()
    show.tmdb_id = 2
    show.save()
    record = Record(
        provider="tmdb",
        kind="show",
        ids={"tmdb_id": 2},
        title="Fawlty Towers",
        year=1975,
        totals={"seasons": seasons(6, 3, 8, specials=3), "season_count": 3, "episodes": 17},
    )
    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        changed = apply_record(SHOW, show, record)
    show.refresh_from_db()
    assert "seasons" in changed
    assert show.seasons == seasons(6, 6, 8, specials=3)  # season 2 keeps its 6, not just 4
    assert (show.season_count, show.episodes, show.specials) == (3, 20, 3)
    assert any("Kept seasons of show Fawlty Towers" in r.getMessage() for r in caplog.records)


def test_the_page_lists_the_seasons_and_the_specials_apart(client, show):
    page = client.get(show.get_absolute_url()).text
    assert "2 seasons · 12 episodes" in page
    assert "<summary>Seasons</summary>" in page
    assert "<li>Season 1: 6 episodes</li>" in page and "<li>Season 2: 6 episodes</li>" in page
    assert "<li>Specials: 2 (not counted in the episodes)</li>" in page


def admin_form(show: Show, **values) -> dict:
    import json

    data = {
        "title": show.title,
        "year": str(show.year),
        "synopsis": "",
        "alt_titles": "[]",
        "seasons": json.dumps(show.seasons),
        "release_status": "",
    }
    return data | {key: json.dumps(v) if key == "seasons" else v for key, v in values.items()}


def test_the_admin_edits_seasons_and_the_totals_follow(admin_client, show):
    response = admin_client.post(
        f"/admin/media/show/{show.pk}/change/",
        admin_form(show, seasons=seasons(6, 6, 8), season_count="1", episodes="1"),
    )
    assert response.status_code == 302
    show.refresh_from_db()
    assert (show.season_count, show.episodes, show.specials) == (3, 20, None)


def test_the_admin_offers_the_totals_only_while_no_seasons_are_listed(admin_client, show):
    # Listed seasons decide the totals: they are shown, not offered for an edit that saving
    # would replace.
    page = admin_client.get(f"/admin/media/show/{show.pk}/change/").text
    assert 'name="seasons"' in page
    assert 'name="season_count"' not in page and 'name="episodes"' not in page
    assert '<div class="readonly">12</div>' in page
    # Without them, the totals are what the admin says.
    unknown = Show.objects.create(title="The Prisoner", year=1967)
    page = admin_client.get(f"/admin/media/show/{unknown.pk}/change/").text
    assert 'name="season_count"' in page and 'name="episodes"' in page
    response = admin_client.post(
        f"/admin/media/show/{unknown.pk}/change/",
        admin_form(unknown, season_count="1", episodes="17"),
    )
    assert response.status_code == 302
    unknown.refresh_from_db()
    assert (unknown.season_count, unknown.episodes) == (1, 17)
    assert admin_client.get("/admin/media/show/add/").text.count('name="episodes"') == 1


def test_the_admin_refuses_a_season_below_what_someone_tracked(admin_client, saved, show):
    saved.season_progress, saved.episode_progress = 2, 5
    saved.save()
    response = admin_client.post(
        f"/admin/media/show/{show.pk}/change/", admin_form(show, seasons=seasons(6, 4))
    )
    assert response.status_code == 200
    assert "Someone has tracked 5 episodes of season 2: it cannot have fewer." in response.text
    show.refresh_from_db()
    assert show.seasons == seasons(6, 6, specials=2)
    response = admin_client.post(
        f"/admin/media/show/{show.pk}/change/", admin_form(show, seasons={"number": 1})
    )
    assert response.status_code == 200
    assert "Enter a list of seasons" in response.text


def test_the_admin_lists_saved_shows_by_season_and_episode(admin_client, saved):
    page = admin_client.get("/admin/media/savedshow/")
    assert page.status_code == 200 and "Fawlty Towers" in page.text
    page = admin_client.get(f"/admin/media/savedshow/{saved.pk}/change/")
    assert 'name="season_progress"' in page.text and 'name="episode_progress"' in page.text


# What a refresh or an admin may not do to a season someone is in.


def test_a_refresh_keeps_an_announced_season_someone_is_in_when_it_is_dropped(user, caplog):
    show = Show.objects.create(
        title="Announced",
        year=2020,
        tmdb_id=7,
        seasons=seasons(10, 10, 0),
        release_status="releasing",
    )
    SavedShow.objects.create(user=user, show=show, season_progress=3, episode_progress=0)
    record = Record(
        provider="tmdb",
        kind="show",
        ids={"tmdb_id": 7},
        title="Announced",
        year=2020,
        totals={"seasons": seasons(10, 12), "season_count": 2, "episodes": 22},
    )
    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        apply_record(SHOW, show, record)  # neither fails nor loses season 3
    show.refresh_from_db()
    assert show.seasons == seasons(10, 12, 0) and show.season_count == 3
    assert "Kept seasons of show Announced" in caplog.text


def test_a_season_the_show_does_not_list_is_refused(user):
    show = Show.objects.create(
        title="Gaps",
        year=2020,
        seasons=[{"number": 2, "episodes": 4}, {"number": 5, "episodes": 9}],
    )
    saved = SavedShow(user=user, show=show, season_progress=3, episode_progress=1)
    with pytest.raises(ValidationError) as error:
        saved.full_clean()
    assert error.value.message_dict["season_progress"] == [
        "Season 3 is not one of Gaps's: enter one of 2, 5."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        saved.save()
    saved.season_progress, saved.episode_progress = 5, 9
    saved.full_clean()
    saved.save()
    assert refused(Show.objects.filter(pk=show.pk), seasons=[{"number": 2, "episodes": 4}])


def test_the_admin_refuses_taking_out_a_season_someone_is_in(admin_client, saved, show):
    saved.season_progress, saved.episode_progress = 2, 0
    saved.save()
    response = admin_client.post(
        f"/admin/media/show/{show.pk}/change/", admin_form(show, seasons=seasons(6))
    )
    assert response.status_code == 200
    assert "Someone is in season 2: it cannot be taken out." in response.text
    show.refresh_from_db()
    assert show.season_count == 2


@pytest.mark.parametrize(
    "value",
    [[{"number": 2}], [{"number": 1, "episodes": "ten"}], [{"number": "1", "episodes": 2}]],
)
def test_the_admin_says_what_is_wrong_with_seasons_of_a_tracked_show(
    admin_client, saved, show, value
):
    saved.season_progress, saved.episode_progress = 2, 3
    saved.save()
    response = admin_client.post(
        f"/admin/media/show/{show.pk}/change/", admin_form(show, seasons=value)
    )
    assert response.status_code == 200
    assert "Enter a list of seasons" in response.text


def test_the_panel_spells_out_the_position_for_screen_readers(auth_client, saved):
    saved.season_progress, saved.episode_progress, saved.status = 2, 5, Status.IN_PROGRESS
    saved.save()
    page = auth_client.get(saved.show.get_absolute_url()).text
    assert '<span class="progress-text" aria-hidden="true">S2 · E5 of 6</span>' in page
    assert '<span class="visually-hidden">Season 2, episode 5 of 6</span>' in page
    assert 'data-summary="Fawlty Towers: season 2, episode 5 of 6, in progress"' in page
    assert '<span class="track-meta">11 / 12 episodes</span>' in page
    one = Show.objects.create(title="Pilot", year=2001, seasons=seasons(1))
    assert SavedShow(show=one, season_progress=1, episode_progress=1).whole_show_text == (
        "1 / 1 episode"
    )
