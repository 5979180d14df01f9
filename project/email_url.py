"""EMAIL_URL: how Shelf sends mail (password resets), in one variable, read by settings.py.

    smtp://user:password@host:587/?tls=1   SMTP, STARTTLS when tls=1 (port 25 by default)
    smtps://user:password@host:465/        SMTP over TLS (port 465 by default)
    console://                             printed in the server's output (the default)
    file:///var/lib/shelf/mail             one file per message in that directory
    memory://                              kept in django.core.mail.outbox (tests)
    dummy://                               thrown away

A user name or password with reserved characters (@, :, /) is written percent-encoded.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
TRUE = {"1", "true", "yes", "on"}


def email_settings(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings for `url`; an empty `url` is the console."""
    url = url.strip() or "console://"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with one of {', '.join(s + '://' for s in BACKENDS)}"
            f" (it starts with {scheme + '://' if scheme else 'no scheme'})."
        )
    found: dict[str, object] = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a directory: file:///path/to/dir")
        found["EMAIL_FILE_PATH"] = unquote(parts.path)
    elif scheme in {"smtp", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL needs the SMTP server's host name.")
        query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
        ssl = scheme == "smtps" or query.get("ssl", "").lower() in TRUE
        try:
            port = parts.port
        except ValueError as error:
            raise ImproperlyConfigured(
                f"EMAIL_URL has a port that is not a number: {error}"
            ) from error
        found |= {
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port or (465 if ssl else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": ssl,
            "EMAIL_USE_TLS": not ssl and query.get("tls", "").lower() in TRUE,
        }
    return found
