#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests that need one (Tune page storage).
#
#   eval "$(bash scripts/pg.sh start)"   # prints: export MLPLAB_TEST_PG_URL=... MLPLAB_TEST_PG_DIR=...
#   bash scripts/pg.sh stop              # stops the server in $MLPLAB_TEST_PG_DIR and removes it
#
# Installs Debian's postgresql when initdb is missing (sudo when not root). initdb refuses to run
# as root, so the server runs as the `postgres` user (or as the current user when not root), with
# trust authentication on 127.0.0.1 only and its data in a fresh temporary directory.
# Everything except the export lines goes to stderr.
set -euo pipefail

cmd="${1:-start}"
find_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}
as_pg() {  # run a command as the server's user
    if [[ "$(id -u)" == "0" ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

if [[ "$cmd" == "stop" ]]; then
    dir="${MLPLAB_TEST_PG_DIR:-}"
    [[ -n "$dir" && -d "$dir" ]] || exit 0
    bin="$(find_bin)"
    as_pg "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" >&2 || true
    rm -rf "$dir"
    exit 0
fi

if ! bin="$(find_bin)"; then
    echo "== installing Debian's postgresql for the storage tests" >&2
    SUDO=""; [[ "$(id -u)" != "0" ]] && SUDO="sudo -n"
    export DEBIAN_FRONTEND=noninteractive
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null; } >&2
    bin="$(find_bin)"
fi

dir="$(mktemp -d /tmp/mlplab-pg.XXXXXX)"
chmod 755 "$dir"
[[ "$(id -u)" == "0" ]] && chown postgres "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg "'$bin/initdb' -D '$dir/data' -A trust -U postgres --no-sync -E UTF8" >/dev/null 2>&1
as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/log' -w -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off\" start" >&2
as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres mlplab_test" >&2
echo "export MLPLAB_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/mlplab_test"
echo "export MLPLAB_TEST_PG_DIR=$dir"
