# Shelf's image: the checkout in /app, its dependencies in /opt/venv, static files collected,
# run as an unprivileged user. `docker compose up` (compose.yaml) adds PostgreSQL and the worker.
#
#   docker build -t shelf .
#   docker run -e SECRET_KEY=... -p 8000:8000 -v shelf-data:/data shelf     # SQLite in /data
#
# The base is a build argument: any Debian bookworm image, with or without Python 3.11.
# Without a registry, build a local one first (.ci/local-images.sh) and pass
# --build-arg BASE_IMAGE=localhost/debian:bookworm.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# Python's image has python3 and venv; plain Debian gets them from its own packages.
RUN if ! command -v python3 >/dev/null || ! python3 -c "import ensurepip" 2>/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv \
    && groupadd --gid 10001 shelf \
    && useradd --uid 10001 --gid shelf --create-home --home-dir /home/shelf \
        --shell /usr/sbin/nologin shelf \
    && install -d -o shelf -g shelf /data

WORKDIR /app

# Dependencies first, so a change to the code alone does not reinstall them. pyproject.toml
# installs no package of its own (packages = []): the code runs from /app.
# Behind a TLS-inspecting proxy, hand its CA bundle in as a build secret:
#   --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt
COPY pyproject.toml README.md ./
RUN --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
    && pip install . \
    && rm -rf build *.egg-info

COPY . .

# The key only lets collectstatic import the settings; it never reaches the running site,
# and nothing is written outside STATIC_ROOT.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0

# `shelf web` (the default) waits for the database, applies migrations and makes the cache table
# (the Procfile's release step, without its check --deploy: a home server may speak plain HTTP),
# then runs the Procfile's `web:` line; `shelf worker` waits for those migrations, then runs
# `worker:`; another Procfile name runs its line. Anything else is run as given:
#   docker compose run --rm web python manage.py createsuperuser
RUN printf '%s\n' \
    '#!/bin/sh' \
    'set -e' \
    'case "$1" in' \
    '  *[!a-z]* | "") line="" ;;' \
    '  *) line=$(sed -n "s/^$1: //p" /app/Procfile) ;;' \
    'esac' \
    'if [ -z "$line" ]; then exec "$@"; fi' \
    'tries=0' \
    'if [ "$1" = web ] || [ "$1" = worker ]; then' \
    '  until python manage.py shell >/dev/null 2>/tmp/db-error \' \
    '      -c "from django.db import connection; connection.ensure_connection()"; do' \
    '    tries=$((tries + 1))' \
    '    if [ "$tries" -ge 60 ]; then cat /tmp/db-error >&2; exit 1; fi' \
    '    echo "shelf: waiting for the database" >&2; sleep 2' \
    '  done' \
    'fi' \
    'if [ "$1" = web ]; then' \
    '  python manage.py migrate --no-input' \
    '  python manage.py createcachetable' \
    'elif [ "$1" = worker ]; then' \
    '  until python manage.py migrate --check >/dev/null 2>&1; do' \
    '    echo "shelf: waiting for the web service to migrate the database" >&2; sleep 2' \
    '  done' \
    'fi' \
    'exec sh -c "exec $line"' \
    > /usr/local/bin/shelf \
    && chmod 755 /usr/local/bin/shelf

ENV DATABASE_URL=sqlite:////data/db.sqlite3
# Without SECRET_KEY, a key of its own, made on first start and kept in the volume (never the
# development key, and never one baked into the image).
ENV SECRET_KEY_FILE=/data/.secret_key
USER shelf
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/shelf"]
CMD ["web"]
