"""Home, lists, item pages, accounts and error pages."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from media.models import Movie


def test_home_shows_each_kind_and_links_to_lists(client, items):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for title in ("Spirited Away", "Cowboy Bebop", "Akira"):
        assert title in html
    for link in (
        'href="/movies/">Movies</a>',
        'href="/anime/">Anime</a>',
        'href="/manga/">Manga</a>',
        'href="/saved/">Saved</a>',
    ):
        assert link in html


def test_navigation_shows_account_controls(client, auth_client):
    anonymous = client.get("/").content.decode()
    assert 'href="/accounts/login/' in anonymous and 'href="/accounts/signup/"' in anonymous
    signed_in = auth_client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in signed_in and ">Sign out</button>" in signed_in
    assert "ada" in signed_in


def test_list_page_paginates(client, db):
    Movie.objects.bulk_create(Movie(title=f"Film {n:02d}", year=1990) for n in range(30))
    first = client.get("/movies/").content.decode()
    assert first.count('class="card-title"') == 24
    assert "Page 1" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/movies/?page=2").content.decode()
    assert second.count('class="card-title"') == 6
    assert "Film 29" in second and "Film 00" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Out-of-range and junk page numbers fall back to a real page, never an error.
    for junk in ("99", "abc", "-3", "9" * 40):
        response = client.get(f"/movies/?page={junk}")
        assert response.status_code == 200 and "Film 00" in response.content.decode()


def test_list_pages_never_count_the_catalog(client, db, django_assert_num_queries):
    Movie.objects.bulk_create(Movie(title=f"Film {n:02d}", year=1990) for n in range(30))
    with django_assert_num_queries(1) as queries:
        client.get("/movies/?page=2")
    assert "COUNT(" not in queries.captured_queries[0]["sql"].upper()


def test_search_counts_matches_only_up_to_a_bound(client, db, settings):
    from media.views import pages as views

    Movie.objects.bulk_create(Movie(title=f"Star {n:02d}", year=1990) for n in range(12))
    assert "12 results for “star”" in client.get("/movies/?q=star").content.decode()
    views.SEARCH_COUNT_LIMIT, limit = 10, views.SEARCH_COUNT_LIMIT
    try:
        html = client.get("/movies/?q=star").content.decode()
    finally:
        views.SEARCH_COUNT_LIMIT = limit
    assert "More than 10 results for “star”" in html


def test_search_by_title(client, items):
    Movie.objects.create(title="Spirited Away II", year=2030)
    Movie.objects.create(title="Alien", year=1979)
    html = client.get("/movies/?q=spirited").content.decode()
    found = re.findall(r'class="card-title" href="[^"]+">([^<]+)<', html)
    assert found == ["Spirited Away", "Spirited Away II"]
    assert "2 results for “spirited”" in html
    empty = client.get("/movies/?q=zzz").content.decode()
    assert "No movies match “zzz”" in empty


def test_search_keeps_the_query_across_pages(client, db):
    Movie.objects.bulk_create(Movie(title=f"Star {n:02d}", year=1990) for n in range(30))
    html = client.get("/movies/?q=star").content.decode()
    assert 'href="?q=star&amp;page=2"' in html


def test_overlong_search_is_400_with_a_message(client, db):
    response = client.get("/movies/?q=" + "x" * 201)
    assert response.status_code == 400
    assert "Ensure this value has at most 200 characters" in response.content.decode()


def test_item_page_shows_facts_and_save_button(client, items):
    html = client.get(items["manga"].get_absolute_url()).content.decode()
    assert "Akira" in html and "120 chapters" in html and "6 volumes" in html
    assert '<form class="save-form" method="post" action="/save/manga/' in html
    assert ">Save</button>" in html and ">Unsave</button>" not in html


def test_item_page_shows_unsave_when_saved(auth_client, user, items):
    from media.models import SavedAnime

    SavedAnime.objects.create(user=user, anime=items["anime"])
    html = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    assert ">Unsave</button>" in html and ">Save</button>" not in html


def test_unknown_item_and_kind_are_404(client, db):
    assert client.get("/movies/12345/").status_code == 404
    response = client.get("/nosuchkind/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()


def test_signup_form_labels(client, db):
    html = client.get("/accounts/signup/").content.decode()
    for label in ("Username", "Password", "Password confirmation"):
        assert f">{label}</label>" in html


def test_one_field_template_draws_every_kind_of_field():
    class Form(forms.Form):
        plain = forms.CharField(help_text="Use <b> & co.")
        rules = forms.CharField(required=False, help_text=mark_safe("<ul><li>Long</li></ul>"))
        agree = forms.BooleanField(required=False, label="I agree")

    html = "".join(render_to_string("_field.html", {"field": field}) for field in Form({}))
    assert '<div class="field field-plain field-invalid">' in html
    assert '<label for="id_plain">Plain</label>' in html
    # Help text is escaped unless marked safe, as Django marks its password rules.
    assert '<div class="help" id="id_plain_helptext">Use &lt;b&gt; &amp; co.</div>' in html
    assert '<div class="help" id="id_rules_helptext"><ul><li>Long</li></ul></div>' in html
    assert '<p class="field-error" id="id_plain_error">This field is required.</p>' in html
    assert '<div class="field field-rules">' in html
    checkbox = r'<label class="check"><input type="checkbox" name="agree"[^>]*> I agree</label>'
    assert re.search(checkbox, html)


def test_signup_shows_the_password_rules_as_a_list(client, db):
    html = client.get("/accounts/signup/").content.decode()
    assert re.search(r'<div class="help" id="id_password1_helptext"><ul><li>', html)


def test_signup_signs_in_and_redirects(client, db):
    response = client.post(
        "/accounts/signup/",
        {"username": "lin", "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    assert response.status_code == 303
    assert response["Location"] == "/saved/"
    assert get_user_model().objects.filter(username="lin").exists()
    assert client.get("/saved/").status_code == 200  # signed in


def test_signup_follows_a_safe_next_only(client, db):
    data = {"username": "lin", "password1": "a-long-passphrase", "password2": "a-long-passphrase"}
    response = client.post("/accounts/signup/?next=//evil.example", data)
    assert response["Location"] == "/saved/"
    client.logout()
    data["username"] = "kim"
    response = client.post("/accounts/signup/", {**data, "next": "/movies/"})
    assert response["Location"] == "/movies/"


@pytest.mark.parametrize(
    ("password2", "message"),
    [("different-passphrase", "The two password fields"), ("", "This field is required")],
)
def test_signup_errors_are_shown_and_nothing_is_created(client, db, password2, message):
    response = client.post(
        "/accounts/signup/",
        {"username": "lin", "password1": "a-long-passphrase", "password2": password2},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not get_user_model().objects.exists()


def test_signup_refuses_a_taken_username(client, user):
    response = client.post(
        "/accounts/signup/",
        {"username": "ADA", "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()


def test_login_page_and_bad_credentials(client, user):
    html = client.get("/accounts/login/").content.decode()
    assert ">Username</label>" in html and ">Password</label>" in html
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_post_only(auth_client):
    assert auth_client.get("/accounts/logout/").status_code == 405
    response = auth_client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert auth_client.get("/saved/").status_code == 302


def test_admin_lists_every_catalog_and_saved_table(client, user, items):
    from media.kinds import KINDS

    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    for kind in KINDS.values():
        saved = kind.saved_model.objects.create(user=user, **{kind.item_field: items[kind.key]})
        for model in (kind.item_model, kind.saved_model):
            url = f"/admin/media/{model._meta.model_name}/"
            response = client.get(url)
            assert response.status_code == 200, url
            assert items[kind.key].title in response.content.decode()
        change = client.get(f"/admin/media/{kind.saved_model._meta.model_name}/{saved.pk}/change/")
        assert change.status_code == 200
