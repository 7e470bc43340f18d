#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: `.ci/postgres.sh start DIR` initialises and starts one
# in DIR on a free loopback port and prints its TEST_DATABASE_URL; `.ci/postgres.sh stop DIR` stops it.
# Installs Debian's `postgresql` package when no server binaries are found. initdb refuses to run as
# root, so as root the server runs as the `postgres` user (created by the package).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?directory}

pg_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    bin=$(pg_bin || true)
    if [ -z "$bin" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
        bin=$(pg_bin)
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home postgres
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then  # the server's user must reach its directory (mktemp -d makes it 0700)
        chown postgres "$dir"; chmod o+x "$(dirname "$dir")"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Tests drop their databases as they go, but many run at once (and fsync is of no use here).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null
    echo "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(pg_bin)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
