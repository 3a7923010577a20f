#!/usr/bin/env bash
# Runs the Playwright suite against the built site (target/debug/server and target/site,
# which scripts/test.sh builds) on a free port with a fresh data dir, the given database
# (default: SQLite in the data dir), the test identity providers (a real OpenID provider
# and the GitHub and Facebook stand-ins) and a real SMTP server (maildev, whose REST API
# the specs read at MAILDEV_URL), all on loopback and stopped by pid.
#
# Usage: scripts/e2e.sh [DATABASE_URL] [-- PLAYWRIGHT ARGS...]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DATABASE=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  DATABASE="$1"
  shift
fi
[ "${1:-}" = "--" ] && shift

TMP_DIR="$(mktemp -d -t gatehouse-e2e.XXXXXX)"
SERVER_LOG="$TMP_DIR/server.log"
PLAYWRIGHT_LOG="$TMP_DIR/playwright.log"
SERVER_PID=""
PROVIDER_PIDS=()

stop_pid() {
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

on_exit() {
  local rc=$? pid
  set +e
  [ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID"
  for pid in "${PROVIDER_PIDS[@]}"; do stop_pid "$pid"; done
  if [ "$rc" -ne 0 ]; then
    echo "---- server log (last 150 lines of $SERVER_LOG) ----"
    tail -n 150 "$SERVER_LOG" 2>/dev/null
    echo "---- end of server log; data, logs and provider logs kept in $TMP_DIR ----"
    # Last, so that a CI page showing only the tail still names what failed and why.
    if [ -s "$PLAYWRIGHT_LOG" ]; then
      echo "---- what Playwright reported failing ----"
      grep -E '^ +[0-9]+\) \[|Error:|Expected|Received|Timeout|waiting for|^ +[0-9]+ (failed|flaky|passed)|^ +\[chromium\]' \
        "$PLAYWRIGHT_LOG" | grep -v '^ *✓' | cut -c1-220 | tail -n 40
    fi
  else
    rm -rf "$TMP_DIR"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits for a provider's "... listening on URL" line in its log and prints the URL.
provider_url() {
  local log="$1" prefix="$2" pid="$3" deadline=$((SECONDS + 60)) line
  while [ "$SECONDS" -lt "$deadline" ]; do
    line="$(grep -m1 "^$prefix" "$log" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      echo "${line#"$prefix"}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "provider did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

# Starts the real OpenID provider and the GitHub and Facebook stand-ins on loopback,
# with Gatehouse at $1 registered as client "gatehouse", and writes Gatehouse's config
# file into $2/gatehouse.toml.
start_providers() {
  local origin="$1" dir="$2" id
  for id in idp github facebook; do
    python3 -c 'import secrets;print(secrets.token_urlsafe(24))' >"$dir/$id.secret"
  done
  client() { echo "gatehouse:$(cat "$dir/$1.secret"):$origin/auth/$1/callback"; }
  (cd end2end && exec node providers/oidc.mjs --port 0 --client "$(client idp)") \
    >"$dir/oidc.log" 2>&1 &
  PROVIDER_PIDS+=($!)
  (cd end2end && exec node providers/standin.mjs --port 0 --github "$(client github)" \
    --facebook "$(client facebook)") >"$dir/standin.log" 2>&1 &
  PROVIDER_PIDS+=($!)
  local oidc standin
  oidc="$(provider_url "$dir/oidc.log" "OIDC provider listening on " "${PROVIDER_PIDS[0]}")"
  standin="$(provider_url "$dir/standin.log" "Stand-in providers listening on " "${PROVIDER_PIDS[1]}")"
  cat >"$dir/gatehouse.toml" <<TOML
public_url = "$origin"

[[providers]]
id = "idp"
kind = "oidc"
name = "OpenID Test"
issuer = "$oidc"
client_id = "gatehouse"
client_secret_file = "$dir/idp.secret"
allow_signup = true

[[providers]]
id = "github"
kind = "github"
name = "GitHub"
client_id = "gatehouse"
client_secret_file = "$dir/github.secret"
allow_signup = true
auth_url = "$standin/github/login/oauth/authorize"
token_url = "$standin/github/login/oauth/access_token"
api_url = "$standin/github/api"

[[providers]]
id = "facebook"
kind = "facebook"
name = "Facebook"
client_id = "gatehouse"
client_secret_file = "$dir/facebook.secret"
allow_signup = true
auth_url = "$standin/facebook/dialog/oauth"
token_url = "$standin/facebook/v19.0/oauth/access_token"
api_url = "$standin/facebook/v19.0"
TOML
  echo "providers: OpenID at $oidc, stand-ins at $standin"
}

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Starts maildev, the SMTP server whose REST API the specs read mail from, on two free
# ports, and sets MAIL_SMTP_PORT and MAIL_WEB_PORT.
start_maildev() {
  local dir="$1" smtp web
  smtp="$(free_port)"
  web="$(free_port)"
  (cd end2end && exec node node_modules/.bin/maildev --ip 127.0.0.1 --web-ip 127.0.0.1 \
    --smtp "$smtp" --web "$web") >"$dir/maildev.log" 2>&1 &
  PROVIDER_PIDS+=($!)
  local deadline=$((SECONDS + 30))
  until curl -fsS --max-time 2 "http://127.0.0.1:$web/api/email" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "maildev did not start; its log:" >&2
      cat "$dir/maildev.log" >&2
      return 1
    fi
    sleep 0.3
  done
  MAIL_SMTP_PORT="$smtp"
  MAIL_WEB_PORT="$web"
}

# Serves the built site on a free port with the providers and maildev, then runs
# Playwright with the arguments given.
run() {
  local database="$1" port url
  shift
  port="$(free_port)"
  # A name, not an IP address: browsers take no IP address as a passkey's site.
  url="http://localhost:$port"
  start_providers "$url" "$TMP_DIR"
  start_maildev "$TMP_DIR"
  # Every Playwright test signs up from 127.0.0.1: lift the per-address sign-up limit.
  GATEHOUSE_ADDR="127.0.0.1:$port" \
    GATEHOUSE_CONFIG="$TMP_DIR/gatehouse.toml" \
    GATEHOUSE_SMTP_URL="smtp://127.0.0.1:$MAIL_SMTP_PORT" \
    GATEHOUSE_SIGN_UPS_PER_HOUR=1000000 \
    DATABASE_URL="${database:-sqlite://$TMP_DIR/gatehouse.db}" \
    GATEHOUSE_SECRET_KEY_FILE="$TMP_DIR/secret.key" \
    LEPTOS_SITE_ROOT=target/site \
    RUST_LOG="${RUST_LOG:-info}" \
    "$ROOT/target/debug/server" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      SERVER_PID=""
      echo "server exited before becoming healthy" >&2
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "server not healthy at $url/healthz after 60 s" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "server healthy: $url (database ${database:-SQLite})"
  # The policy spec starts a server of its own (with --require-two-factor) from these,
  # mailing through the same maildev.
  (cd end2end && GATEHOUSE_URL="$url" MAILDEV_URL="http://127.0.0.1:$MAIL_WEB_PORT" \
    GATEHOUSE_BIN="$ROOT/target/debug/server" GATEHOUSE_SITE_ROOT="$ROOT/target/site" \
    GATEHOUSE_SMTP_URL="smtp://127.0.0.1:$MAIL_SMTP_PORT" \
    npx --no-install playwright test "$@") 2>&1 | tee "$PLAYWRIGHT_LOG"
}

run "$DATABASE" "$@"
