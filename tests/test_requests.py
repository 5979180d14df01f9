"""Requests at the edges (project/middleware.py and Django's own limits): HEAD on every page,
bodies too large or of unknown length, too many fields or files."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from media.importing import MAX_UPLOAD
from media.models import Import
from project.middleware import HeadAsGetMiddleware, largest_body

# The arguments each named page of the site is drawn with; every pattern must be listed here
# (the test fails on one that is not), so a new page is checked too.
PAGE_ARGUMENTS = {
    "signup": {},
    "csp_report": {},
    "account": {},
    "account_delete": {},
    "password_change": {},
    "password_change_done": {},
    "password_reset": {},
    "password_reset_done": {},
    "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    "password_reset_complete": {},
    "login": {},
    "logout": {},
    "media:home": {},
    "media:saved": {},
    "media:search": {},
    "media:search_online": {"kind": "anime"},
    "media:add": {"kind": "anime"},
    "media:import": {},
    "media:import_detail": {"pk": "import"},
    "media:import_apply": {"pk": "import"},
    "media:import_cancel": {"pk": "import"},
    "media:import_row": {"pk": "import", "index": 0},
    "media:offline": {},
    "media:manifest": {},
    "media:service_worker": {},
    "media:save": {"kind": "anime", "pk": "item"},
    "media:track": {"kind": "anime", "pk": "item"},
    "media:export": {},
    "media:export_json": {},
    "media:export_csv": {},
    "media:export_mal": {"kind": "anime"},
    "media:export_mal_gz": {"kind": "anime"},
    "media:list": {"kind": "anime"},
    "media:item": {"kind": "anime", "pk": "item"},
}
# The admin is Django's: its front door stands for the rest.
ADMIN_PATHS = ["/admin/", "/admin/login/"]


def named_patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names += named_patterns(entry, namespace)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"{entry.pattern} has no name"
            names.append(prefix + entry.name)
    return names


def test_every_page_is_listed():
    assert sorted(named_patterns(get_resolver())) == sorted(PAGE_ARGUMENTS)


@pytest.fixture
def page_paths(user, items):
    from django.urls import reverse

    imp = Import.objects.create(
        user=user, filename="list.xml", format_label="MyAnimeList anime list", state="done"
    )
    stand_ins = {"import": imp.pk, "item": items["anime"].pk}
    paths = [
        reverse(name, kwargs={k: stand_ins.get(v, v) for k, v in kwargs.items()})
        for name, kwargs in PAGE_ARGUMENTS.items()
    ]
    return paths + ADMIN_PATHS


HEADERS_COMPARED = ("Content-Type", "Content-Length", "Location", "Cache-Control", "Vary")


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_head_answers_as_get_on_every_page(page_paths, user, signed_in):
    answered = 0
    for path in page_paths:
        # A client per page: a message one page leaves is shown by the next page drawn.
        client = Client()
        if signed_in:
            client.force_login(user)
        get = client.get(path)
        if get.status_code == 405:
            assert get["Allow"] == "POST", path  # a form's target: neither GET nor HEAD
            continue
        head = client.head(path)
        assert head.status_code == get.status_code, path
        for name in HEADERS_COMPARED:
            assert head.get(name) == get.get(name), (path, name)
        if not get.streaming:
            assert head["Content-Length"] == str(len(get.content)), path
        assert b"".join(head) == b"", path
        answered += 1
    assert answered >= 20  # the pages, not only redirects and refusals


def test_head_drops_the_body_and_keeps_its_length():
    view = HeadAsGetMiddleware(lambda request: HttpResponse(b"twelve bytes", status=200))
    response = view(RequestFactory().head("/"))
    assert response.content == b""
    assert response["Content-Length"] == "12"


def test_head_never_runs_a_stream(db):
    produced = []

    def rows():
        produced.append("row")
        yield b"row\n"

    def stream(request):
        assert request.method == "GET"  # the view answers as it would a GET
        return StreamingHttpResponse(rows())

    request = RequestFactory().head("/export/shelf.csv")
    response = HeadAsGetMiddleware(stream)(request)
    assert b"".join(response.streaming_content) == b""
    response.close()  # as the server does once the answer is sent
    assert produced == []
    assert request.method == "HEAD"  # what the logs and later code see


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def read(self, *args):
        raise AssertionError("the body was read")

    readinto = readline = read


def post_declaring(client: Client, path: str, length: int, **extra):
    return client.generic(
        "POST",
        path,
        content_type="multipart/form-data; boundary=x",
        **{"CONTENT_LENGTH": str(length), "wsgi.input": Unreadable(), **extra},
    )


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize("path", ["/import/", "/accounts/login/", "/save/anime/1/", "/nowhere/"])
def test_a_huge_body_is_refused_unread(db, user, path, signed_in):
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(user)
    response = post_declaring(client, path, 1024**3)  # 1 GiB
    assert response.status_code == 413
    text = response.content.decode()
    assert "<h1>Too large</h1>" in text
    assert "Shelf takes requests of up to 21 MB, and this one is 1,024 MB." in text
    assert "Imported files may be up to 20 MB" in text


def test_the_limit_leaves_room_for_the_largest_import(db, user):
    assert largest_body() > MAX_UPLOAD
    client = Client()
    client.force_login(user)
    # Declared at the limit, it goes through to the form (which finds no file in it).
    response = client.generic(
        "POST",
        "/import/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(largest_body()),
    )
    assert response.status_code == 400
    assert "Too large" not in response.content.decode()


def test_a_body_of_unknown_length_is_refused(db):
    response = Client().post(
        "/accounts/login/",
        b"",
        content_type="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert "a Content-Length header" in response.content.decode()


@pytest.mark.parametrize("length", ["-1", "12abc", "1e9", "\u00b2", "\u0661\u0662"])
def test_a_content_length_that_is_not_a_number_is_refused(db, length):
    response = post_declaring(Client(), "/accounts/login/", 0, CONTENT_LENGTH=length)
    assert response.status_code == 400
    assert "Content-Length is not a number" in response.content.decode()


def csrf_client(user=None) -> tuple[Client, str]:
    """A client as a browser is: the CSRF cookie set by a page, the token in each form."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    token = client.get("/accounts/login/").context["csrf_token"]
    return client, str(token)


FORM_POSTS = ["/accounts/login/", "/accounts/signup/", "/import/", "/track/anime/{item}/"]


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@pytest.mark.parametrize("path", FORM_POSTS)
def test_1001_form_fields_answer_400(user, items, settings, path, encoding):
    settings.DEBUG = False
    client, token = csrf_client(user)
    fields = {f"field{n}": "x" for n in range(1000)} | {"csrfmiddlewaretoken": token}
    path = path.format(item=items["anime"].pk)
    if encoding == "urlencoded":
        response = client.post(
            path, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(path, fields)
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()


@pytest.mark.parametrize("path", ["/import/", "/accounts/login/"])
def test_101_files_answer_400(user, settings, path):
    settings.DEBUG = False
    client, token = csrf_client(user)
    files = {f"file{n}": SimpleUploadedFile(f"list{n}.csv", b"Title\n") for n in range(101)}
    response = client.post(path, {"csrfmiddlewaretoken": token, **files})
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()
