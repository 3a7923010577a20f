#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests, on a free loopback port, in a
# temp dir, as an unprivileged user (initdb refuses root).
#
#   eval "$(scripts/postgres.sh start)"   # exports GATEHOUSE_TEST_POSTGRES and PG_TEST_DIR
#   scripts/postgres.sh pause|resume "$PG_TEST_DIR"   # an outage, and the recovery
#   scripts/postgres.sh stop "$PG_TEST_DIR"
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

start() {
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 is not installed under $PG_BIN" >&2; exit 1; }
  local dir port
  dir="$(mktemp -d -t gatehouse-pg.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir"
  port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U gatehouse --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  run "$dir"
  echo "export PG_TEST_DIR='$dir'"
  echo "export GATEHOUSE_TEST_POSTGRES='postgres://gatehouse@127.0.0.1:$port/postgres'"
}

# Starts (or restarts) the cluster in DIR on the port it was created with.
run() {
  local dir="$1" port
  port="$(cat "$dir/port")"
  # Durability stays on: the tests check what a real deployment does.
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

# Stops the cluster but keeps its data, to simulate an outage.
pause() {
  as_owner "$PG_BIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null
}

stop() {
  local dir="$1"
  [ -d "$dir/data" ] || return 0
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  pause) pause "${2:?usage: postgres.sh pause DIR}" ;;
  resume) run "${2:?usage: postgres.sh resume DIR}" ;;
  stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
  *) echo "usage: $0 start | pause DIR | resume DIR | stop DIR" >&2; exit 2 ;;
esac
