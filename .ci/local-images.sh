#!/usr/bin/env bash
# Builds, without any image registry, the two base images compose.yaml needs:
#   localhost/debian:bookworm   Debian bookworm (minbase) from a Debian mirror, by debootstrap
#   localhost/postgres:15       PostgreSQL 15 from Debian's packages, configured like the
#                               official postgres image (POSTGRES_USER, POSTGRES_PASSWORD,
#                               POSTGRES_DB; data in /var/lib/postgresql/data)
# Needs root, debootstrap and podman (or docker: ENGINE=docker). Then:
#   podman build --build-arg BASE_IMAGE=localhost/debian:bookworm -t localhost/shelf .
#   POSTGRES_IMAGE=localhost/postgres:15 podman-compose up -d
set -euo pipefail

ENGINE=${ENGINE:-podman}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$ENGINE" image inspect localhost/debian:bookworm >/dev/null 2>&1; then
    debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR"
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | "$ENGINE" import --change 'CMD ["/bin/bash"]' - \
        localhost/debian:bookworm
fi

# The server starts as the postgres user; a first start with an empty data directory
# initialises it and creates the database, as the official image does.
cat > "$work/Containerfile" <<'EOF'
FROM localhost/debian:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -m 700 -o postgres -g postgres /var/lib/postgresql/data \
    && install -d -m 2775 -o postgres -g postgres /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
RUN printf '%s\n' \
    '#!/bin/sh' \
    'set -e' \
    ': "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"' \
    'if [ ! -s "$PGDATA/PG_VERSION" ]; then' \
    '  [ -n "$POSTGRES_PASSWORD" ] || { echo "Set POSTGRES_PASSWORD." >&2; exit 1; }' \
    '  printf "%s\n" "$POSTGRES_PASSWORD" > /tmp/pw' \
    '  initdb --username="$POSTGRES_USER" --pwfile=/tmp/pw --auth-local=trust \' \
    '    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8' \
    '  rm /tmp/pw' \
    '  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"' \
    '  if [ "$POSTGRES_DB" != postgres ]; then' \
    '    echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" postgres' \
    '  fi' \
    'fi' \
    'exec postgres -D "$PGDATA" -c listen_addresses="*"' \
    > /usr/local/bin/postgres-start \
    && chmod 755 /usr/local/bin/postgres-start
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["/usr/local/bin/postgres-start"]
EOF
"$ENGINE" build -t localhost/postgres:15 -f "$work/Containerfile" "$work"
