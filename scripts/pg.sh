#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: `bash scripts/pg.sh start` prints its URL,
# `bash scripts/pg.sh stop` stops it and removes its data.  It listens on 127.0.0.1 only
# (port $FORECAST_PG_PORT, default 55432), runs as the `postgres` user when started by root
# (initdb refuses root), and keeps its data in a temporary folder.  Debian's `postgresql`
# package is installed first if it is missing and we are root.
set -euo pipefail
cmd=${1:-start}
port=${FORECAST_PG_PORT:-55432}
data=${FORECAST_PG_DATA:-/tmp/forecast-pg-$port}
db=forecast_test

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(find_bin)
if [ -z "$bin" ] && [ "$cmd" = start ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing postgresql (Debian package)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    bin=$(find_bin)
  fi
  if [ -z "$bin" ]; then
    echo "error: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

case "$cmd" in
  start)
    if [ -f "$data/postmaster.pid" ]; then
      as_pg "'$bin/pg_ctl' -D '$data' -m immediate stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    as_pg "'$bin/initdb' -D '$data' -A trust -U postgres --no-sync -E UTF8" >/dev/null
    as_pg "'$bin/pg_ctl' -D '$data' -w -l '$data/server.log' -o \"-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$data' -c max_connections=200 -c fsync=off\" start" >/dev/null
    as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres $db"
    echo "postgresql://postgres@127.0.0.1:$port/$db"
    ;;
  stop)
    if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
      as_pg "'$bin/pg_ctl' -D '$data' -m fast -w stop" >/dev/null || true
    fi
    rm -rf "$data"
    ;;
  *)
    echo "usage: bash scripts/pg.sh start|stop" >&2
    exit 2
    ;;
esac
