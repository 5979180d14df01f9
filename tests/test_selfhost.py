"""Running Shelf at home (`make run`): the secret key it keeps, the hosts it answers to on the
local network, and what it says when it starts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from project import selfhost

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter at the checkout, with `env` over a clean environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "HOST", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


SETTINGS = (
    "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; "
    "django.setup(); from django.conf import settings; "
    "print(json.dumps({'key': settings.SECRET_KEY, 'hosts': settings.ALLOWED_HOSTS}))"
)


def test_a_key_is_made_once_private_and_kept(tmp_path):
    path = tmp_path / ".secret_key"
    key = selfhost.secret_key_from_file(path)
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert selfhost.secret_key_from_file(path) == key
    assert [p.name for p in tmp_path.iterdir()] == [".secret_key"]  # no temporary file left


def test_processes_starting_together_share_one_key(tmp_path):
    path = tmp_path / ".secret_key"
    code = (
        "from pathlib import Path; from project.selfhost import secret_key_from_file; "
        f"print(secret_key_from_file(Path({str(path)!r})))"
    )
    starting = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in starting}
    assert keys == {path.read_text().strip()}


def test_settings_take_the_key_from_the_file_and_the_environment_first(tmp_path):
    path = tmp_path / "key"
    from_file = json.loads(run_python(SETTINGS, SECRET_KEY_FILE=str(path)).stdout)["key"]
    assert from_file == path.read_text().strip()
    given = "s" * 60
    result = run_python(SETTINGS, SECRET_KEY_FILE=str(path), SECRET_KEY=given)
    assert json.loads(result.stdout)["key"] == given


def test_a_damaged_key_file_stops_with_a_clear_message(tmp_path):
    path = tmp_path / "key"
    path.write_text("short\n")
    result = run_python(SETTINGS, SECRET_KEY_FILE=str(path))
    assert result.returncode != 0
    assert f"{path} holds no usable secret key" in result.stderr
    assert "Delete the file to have a new key made" in result.stderr


def test_a_key_file_that_cannot_be_written_stops_with_a_clear_message(tmp_path):
    path = tmp_path / "missing-folder" / "key"
    result = run_python(SETTINGS, SECRET_KEY_FILE=str(path))
    assert result.returncode != 0
    assert f"Could not write a secret key to {path}" in result.stderr


def hosts(**env: str) -> list[str]:
    result = run_python(SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["hosts"]


def test_hosts_are_this_machine_alone_by_default():
    assert hosts() == ["localhost", "127.0.0.1", "[::1]"]
    assert hosts(HOST="127.0.0.1") == ["localhost", "127.0.0.1", "[::1]"]


def test_serving_the_network_allows_this_machines_names_and_addresses():
    allowed = hosts(HOST="0.0.0.0")
    assert "*" not in allowed
    assert allowed[:3] == ["localhost", "127.0.0.1", "[::1]"]
    for address in selfhost.machine_addresses():
        assert (f"[{address}]" if ":" in address else address) in allowed
    name = os.uname().nodename.split(".")[0]
    assert name in allowed and f"{name}.local" in allowed


def test_given_hosts_are_taken_as_they_are():
    assert hosts(HOST="0.0.0.0", ALLOWED_HOSTS="shelf.home, 10.0.0.2") == ["shelf.home", "10.0.0.2"]


def test_network_hosts(monkeypatch):
    monkeypatch.setattr(selfhost.socket, "gethostname", lambda: "den.lan")
    monkeypatch.setattr(selfhost, "machine_addresses", lambda: {"192.168.1.20", "fd00::7"})
    assert selfhost.network_hosts("0.0.0.0") == [
        "den",
        "den.local",
        "192.168.1.20",
        "[fd00::7]",
    ]
    assert selfhost.network_hosts("::") == selfhost.network_hosts("0.0.0.0")
    assert selfhost.network_hosts("192.168.1.20") == ["192.168.1.20"]
    assert selfhost.network_hosts("fd00::7") == ["[fd00::7]"]


def test_machine_addresses_leave_out_loopback_and_link_local():
    for address in selfhost.machine_addresses():
        assert not address.startswith(("127.", "fe80:")) and address != "::1"


def test_a_phone_signs_in_over_plain_http_on_the_network(settings, user):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "192.168.1.20"]
    phone = Client(enforce_csrf_checks=True, HTTP_HOST="192.168.1.20:8000")
    page = phone.get("/accounts/login/")
    assert page.status_code == 200
    assert not page.cookies["csrftoken"]["secure"]  # a cookie marked Secure never comes back
    response = phone.post(
        "/accounts/login/",
        {
            "username": "ada",
            "password": "correct horse battery",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
        HTTP_ORIGIN="http://192.168.1.20:8000",
    )
    assert response.status_code == 302
    assert not response.cookies["sessionid"]["secure"]
    assert phone.get("/saved/").status_code == 200


def test_another_sites_name_is_refused(settings, db):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "192.168.1.20"]
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="rebound.example")
    assert response.status_code == 400


def notes(monkeypatch, capsys, **env: str) -> str:
    for name in ("HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    call_command("startup_notes")
    return capsys.readouterr().out


def test_the_first_start_says_how_to_make_the_admin(db, monkeypatch, capsys):
    said = notes(monkeypatch, capsys)
    assert "Shelf will be at http://127.0.0.1:8000/" in said
    assert "No admin account yet" in said
    assert "manage.py createsuperuser" in said
    assert "this network" not in said
    get_user_model().objects.create_superuser("root", password="correct horse battery")
    assert "createsuperuser" not in notes(monkeypatch, capsys, PORT="8080")


def test_serving_the_network_lists_the_addresses_for_a_phone(db, monkeypatch, capsys, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "den", "192.168.1.20", "[fd00::7]"]
    said = notes(monkeypatch, capsys, HOST="0.0.0.0", PORT="8000")
    assert "Shelf will be at http://127.0.0.1:8000/" in said
    assert "one of: http://den:8000/, http://192.168.1.20:8000/, http://[fd00::7]:8000/" in said
    assert "need HTTPS" in said
