"""Production settings pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3v9-Qm2#Lr8_Wt5zXc1!Nb6-Hy4^Pd7*Fg0(Js3)Ua8+Ke2=Vo5",
    "ALLOWED_HOSTS": "shelf.example",
    "CSRF_TRUSTED_ORIGINS": "https://shelf.example",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SHELF_TRUSTED_PROXIES": "1",
}


def check_deploy(overrides: dict[str, str]) -> subprocess.CompletedProcess:
    # The browser tests allow sync ORM calls in their event loop; a deployment must not.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY_FILE"}
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_have_no_deploy_warnings():
    result = check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_fails_the_release_check():
    result = check_deploy({**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_plain_http_defaults_are_reported():
    result = check_deploy({"DEBUG": "0", "SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    assert result.returncode != 0
    for code in ("W004", "W008", "W012", "W016"):
        assert f"security.{code}" in result.stderr


def test_a_key_kept_in_a_file_passes_the_release_check(tmp_path):
    # `make run`'s way: no SECRET_KEY, a key made once in SECRET_KEY_FILE.
    settings = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(tmp_path / ".secret_key")}
    result = check_deploy(settings)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".secret_key").exists()


def proxy_ssl_header(overrides: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.update(overrides)
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's "objects imported" line


def test_x_forwarded_proto_is_believed_only_with_something_of_ours_in_front():
    # Plain `make run` on a network: a client could otherwise claim HTTPS with the header.
    assert proxy_ssl_header({}) == "None"
    assert "HTTP_X_FORWARDED_PROTO" in proxy_ssl_header({"SHELF_TRUSTED_PROXIES": "1"})
    assert "HTTP_X_FORWARDED_PROTO" in proxy_ssl_header({"SECURE_SSL_REDIRECT": "1"})
