"""Shelf's settings: one module, driven by environment variables.

Development needs none of them (SQLite file, local hosts). Production sets at least
SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; README.md lists the rest.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project import selfhost
from project.email_url import email_settings  # accounts

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


# ---- Server: debug mode, the secret key, the hosts served (issue 12, "server") ----
# Off unless asked for: `make run` serves with it off, `make dev` turns it on.
DEBUG = env_bool("DEBUG", False)

# SECRET_KEY, else the key kept in SECRET_KEY_FILE (`make run` and `make dev` point it at
# .secret_key in the checkout, made on first use), else a development key for the tests, which
# `check --deploy` flags (security.W009), so the Procfile's release step refuses to deploy it.
if os.environ.get("SECRET_KEY"):
    SECRET_KEY = os.environ["SECRET_KEY"]
elif os.environ.get("SECRET_KEY_FILE"):
    try:
        SECRET_KEY = selfhost.secret_key_from_file(Path(os.environ["SECRET_KEY_FILE"]))
    except selfhost.SecretKeyFileError as error:
        raise ImproperlyConfigured(str(error)) from error
else:
    SECRET_KEY = "django-insecure-shelf-development-only"

# ALLOWED_HOSTS when set. Otherwise this machine's loopback names, and when the server listens
# beyond them (HOST, as in `HOST=0.0.0.0 make run`), the names and addresses it has on the
# network, worked out at start: never "*", which would let any site's DNS point at Shelf.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or list(
    dict.fromkeys(
        ["localhost", "127.0.0.1", "[::1]"]
        + (selfhost.network_hosts(os.environ["HOST"].strip()) if env_list("HOST") else [])
    )
)
# ---- end of the server block ----
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",  # sign-in throttling: see "Defences" below
    "media",
]

MIDDLEWARE = [
    "media.security.SecurityHeadersMiddleware",  # CSP, Permissions-Policy: every answer, static too
    "django.middleware.security.SecurityMiddleware",
    # Server (issue 12): a body too large is refused unread; HEAD is answered as GET.
    "project.middleware.RequestSizeMiddleware",
    "project.middleware.HeadAsGetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "media.pwa.OfflineCopiesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into a page
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "media.context_processors.kinds",
                "media.pwa.cache_key_context",
            ],
        },
    },
]

# SQLite by default, so a newcomer installs nothing; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock up front,
    # so two writers queue on the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too, not a shared in-memory database: the browser tests' server answers
    # requests in parallel threads, which must wait for each other's writes as in production
    # (an in-memory database shares its cache and fails them with "table is locked").
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
elif env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # Statements a connection runs again (the session, the user, the feed) are parsed and
    # planned once: the feed's plan costs more than running it. Turn this off behind a
    # pooler in transaction mode that cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": 5,
            "options": "-c plan_cache_mode=force_generic_plan",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every process (the web workers and the task worker share provider answers),
# in the database, so nothing else needs installing. `manage.py createcachetable` makes it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "shelf_cache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 20_000)},
    }
}

# Slow work (catalog refreshes) runs in the worker: `manage.py worker`, the Procfile's
# `worker:`. Its queue is a database table, so SQLite and PostgreSQL need no broker.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Metadata providers (media.providers). Movies come from TMDB only with a key; anime and
# manga from Jikan, which needs none. The base URLs exist for mirrors, proxies and tests.
TMDB_API_KEY = os.environ.get("TMDB_API_KEY", "").strip()
TMDB_API_URL = os.environ.get("TMDB_API_URL", "https://api.themoviedb.org/3").rstrip("/")
TMDB_IMAGE_URL = os.environ.get("TMDB_IMAGE_URL", "https://image.tmdb.org/t/p").rstrip("/")
JIKAN_API_URL = os.environ.get("JIKAN_API_URL", "https://api.jikan.moe/v4").rstrip("/")
# The longest a page waits on a provider, retries included, in seconds.
PROVIDER_PAGE_BUDGET = float(os.environ.get("PROVIDER_PAGE_BUDGET", "5"))
# How long a provider's answer, and its "not found", are kept in the cache, in seconds.
PROVIDER_CACHE_SECONDS = env_int("PROVIDER_CACHE_SECONDS", 12 * 60 * 60)
PROVIDER_MISSING_CACHE_SECONDS = env_int("PROVIDER_MISSING_CACHE_SECONDS", 60 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "media.auth.NotOnlyWhitespaceValidator"},  # accounts: eight spaces are no password
]

# ---- Accounts (media.auth, media.accounts) ----
# Usernames sign in in any case (migration 0011 makes them unique in any case, too).
# SHELF_SIGNUPS=closed: nobody signs up; the admin creates accounts (manage.py createsuperuser,
# then /admin/).
SHELF_SIGNUPS = os.environ.get("SHELF_SIGNUPS", "open").strip().lower() or "open"
if SHELF_SIGNUPS not in {"open", "closed"}:
    raise ImproperlyConfigured(f"SHELF_SIGNUPS is 'open' or 'closed', not {SHELF_SIGNUPS!r}.")
# Mail (password resets): EMAIL_URL, see project/email_url.py; the console by default, so a
# reset link shows in the output of the process that sends it (the worker).
_email = email_settings(os.environ.get("EMAIL_URL", ""))
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
EMAIL_FILE_PATH = _email.pop("EMAIL_FILE_PATH", None)
EMAIL_HOST = _email.pop("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.pop("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.pop("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.pop("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.pop("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.pop("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "shelf@localhost"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Password reset links work for a day.
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60
# ---- end of Accounts ----

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "media:saved"
LOGOUT_REDIRECT_URL = "media:home"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS is the platform's job; these switch on once it terminates TLS in front of us.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "media.views.accounts.csrf_failure"

# --- Defences: sign-in throttling, headers, cookies (README.md, "Security") ---
# django-axes counts failed sign-ins in the database, so every web process shares them. Five
# failures for one account name (any case), or from one address, lock it for the cool-off;
# a locked attempt is refused before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out try never reaches a hasher
    "media.auth.AnyCaseUsernameBackend",  # usernames in any case (accounts)
]
AXES_HANDLER = "media.axes_handler.RacingFailuresHandler"  # axes' own, retried on a race
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_FAILURE_LIMIT = env_int("SHELF_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SHELF_LOGIN_COOLOFF_MINUTES", 15))
# Attempts made while locked are refused, not counted: the lock ends when the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# media.security.forget_failures clears the account's failures on success (not the address's).
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "media.security.username_key"
AXES_CLIENT_IP_CALLABLE = "media.security.client_ip"
AXES_LOCKOUT_CALLABLE = "media.security.lockout_response"
# No record of every successful sign-in: only failures are kept, and only for the cool-off.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# How many reverse proxies of ours stand in front (each appends to X-Forwarded-For); 0 means
# none, and the address is the connection's. Set it only when that many really do.
SHELF_TRUSTED_PROXIES = env_int("SHELF_TRUSTED_PROXIES", 0)
# X-Forwarded-Proto says a request came over HTTPS only when something of ours in front writes
# it: a proxy (SHELF_TRUSTED_PROXIES), or the platform that terminates TLS (which
# SECURE_SSL_REDIRECT implies). Otherwise any client could claim HTTPS with it.
if SHELF_TRUSTED_PROXIES > 0 or SECURE_SSL_REDIRECT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Hosts posters may come from besides the providers' own (the CSP's img-src), comma-separated:
# for a provider mirror or an image proxy.
SHELF_IMAGE_HOSTS = env_list("SHELF_IMAGE_HOSTS")

# Cookies: never readable by scripts (none of Shelf's reads the CSRF cookie: each form
# carries its token), sent on top-level navigation from elsewhere but not on cross-site posts.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# --- end of defences ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # httpx logs every request's URL at INFO, and a TMDB v3 key travels in the URL.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
