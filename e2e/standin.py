"""A stand-in for the metadata providers and their image hosts, for the browser tests.

It listens on 127.0.0.1 and answers the providers' documented paths with the recorded
bodies in tests/fixtures/providers/ (see tests/fixtures/SOURCES.md): a search answers with
the recorded search's entries whose titles contain the query; a title's own page answers
with its recorded detail, or with its entry from a recorded search (Jikan and TMDB list a
title in a search with the fields of its detail that Shelf reads). TV shows answer from
TMDB's TV bodies, which were built by hand (SOURCES.md): /search/tv, /tv/{id} (Breaking
Bad's details with its seasons; another show of the search has none) and /find/{IMDb id}
with its `tv_results`. Poster URLs are pointed at the stand-in, which answers every image
with one small PNG, so no test reaches the real image hosts.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from media.text import normalize

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "providers"
PNG = Path(__file__).resolve().parent.parent / "static" / "icons" / "shelf-192.png"
IMAGE_HOSTS = ("https://cdn.myanimelist.net/", "https://image.tmdb.org/")


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[str] = []
        self.down = False  # answer every API request with 503, as a provider on a bad day
        self.jikan = {
            "anime": (_load("jikan_anime_search.json"), _load("jikan_anime_detail.json")),
            "manga": (_load("jikan_manga_search.json"), _load("jikan_manga_detail.json")),
        }
        self.tmdb = (_load("tmdb_search_movie.json"), _load("tmdb_movie_details.json"))
        self.tmdb_tv = (
            _load("tmdb_tv_search.json"),
            _load("tmdb_tv_details.json"),
            _load("tmdb_tv_find.json"),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> StandIn:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def local_images(self, body):
        """`body` with the image hosts' URLs pointed at this server."""
        text = json.dumps(body)
        for host in IMAGE_HOSTS:
            text = text.replace(host, f"{self.url}/images/")
        return json.loads(text)


def _matches(query: str, *names) -> bool:
    term = normalize(query)
    return bool(term) and any(term in normalize(name or "") for name in names)


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:  # the tests read `requests` instead
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        self.server.requests.append(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "images":
            return self._send(200, PNG.read_bytes(), "image/png")
        if self.server.down:
            return self._json(503, {"status": 503, "message": "stand-in is down"})
        if parts[:2] == ["jikan", "v4"] and len(parts) >= 3 and parts[2] in self.server.jikan:
            return self._jikan(parts[2], parts[3:], query)
        if parts[:2] == ["tmdb", "3"]:
            return self._tmdb(parts[2:], query)
        return self._json(404, {"status": 404, "message": "not in the stand-in"})

    def _jikan(self, kind: str, rest: list[str], query: dict) -> None:
        search, detail = self.server.jikan[kind]
        if not rest:
            found = [
                entry
                for entry in search["data"]
                if _matches(query.get("q", ""), entry["title"], entry.get("title_english"))
            ]
            return self._json(200, {**search, "data": found})
        wanted = int(rest[0]) if rest[0].isdigit() else -1
        for entry in [detail["data"], *search["data"]]:
            if entry["mal_id"] == wanted:
                return self._json(200, {"data": entry})
        return self._json(404, {"status": 404, "type": "BadResponseException"})

    def _tmdb(self, rest: list[str], query: dict) -> None:
        search, detail = self.server.tmdb
        if rest[:1] in (["tv"], ["find"]) or rest == ["search", "tv"]:
            return self._tmdb_tv(rest, query)
        if rest == ["search", "movie"]:
            found = [
                movie
                for movie in search["results"]
                if _matches(query.get("query", ""), movie["title"], movie["original_title"])
            ]
            return self._json(200, {**search, "results": found, "total_results": len(found)})
        if len(rest) == 2 and rest[0] == "movie" and rest[1].isdigit():
            for movie in [detail, *search["results"]]:
                if movie["id"] == int(rest[1]):
                    return self._json(200, movie)
        return self._json(404, {"status_code": 34, "status_message": "not found"})

    def _tmdb_tv(self, rest: list[str], query: dict) -> None:
        search, detail, find = self.server.tmdb_tv
        if rest == ["search", "tv"]:
            found = [
                show
                for show in search["results"]
                if _matches(query.get("query", ""), show["name"], show["original_name"])
            ]
            return self._json(200, {**search, "results": found, "total_results": len(found)})
        if len(rest) == 2 and rest[0] == "tv" and rest[1].isdigit():
            for show in [detail, *search["results"]]:
                if show["id"] == int(rest[1]):
                    return self._json(200, show)
        if len(rest) == 2 and rest[0] == "find":
            known = rest[1] == detail["external_ids"]["imdb_id"]
            return self._json(200, {**find, "tv_results": find["tv_results"] if known else []})
        return self._json(404, {"status_code": 34, "status_message": "not found"})

    def _json(self, status: int, body) -> None:
        self._send(status, json.dumps(self.server.local_images(body)).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
