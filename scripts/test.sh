#!/usr/bin/env bash
# Runs every Gatehouse check, failing fast:
#   setup (tools) -> rustfmt -> clippy (server/app, frontend wasm) ->
#   cargo test (unit + integration) -> cargo leptos build -> Playwright e2e
#   against a freshly started server (free port, empty temp data dir), then the
#   integration tests and Playwright again on a throwaway PostgreSQL 15 cluster.
#
# Usage: scripts/test.sh
# Env:   RUST_LOG (server log level, default "info")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NPM_PREFIX="$(npm prefix -g)"
export PATH="$HOME/.cargo/bin:$NPM_PREFIX/bin:$PATH"
# A one-off build gains nothing from incremental state, which is most of target/'s size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

T0=$SECONDS
SECTION=""
SECTION_T0=$SECONDS
SUMMARY=()
SERVER_PID=""
SERVER_LOG=""
PROVIDER_PIDS=()
TMP_DIR=""

begin() {
  SECTION="$1"
  SECTION_T0=$SECONDS
  printf '\n==================== [%s] ====================\n' "$SECTION"
}

end() {
  local dt=$((SECONDS - SECTION_T0))
  printf -- '-------------------- [%s] passed in %d s\n' "$SECTION" "$dt"
  SUMMARY+=("$(printf '  %-18s %5d s' "$SECTION" "$dt")")
  SECTION=""
}

print_server_log() {
  if [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
    echo "---- server log (last 150 lines of $SERVER_LOG) ----"
    tail -n 150 "$SERVER_LOG" || true
    echo "---- end of server log ----"
  fi
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# The identity providers of one e2e run, stopped by their process ids.
stop_providers() {
  local pid
  for pid in "${PROVIDER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PROVIDER_PIDS=()
}

on_exit() {
  local rc=$?
  set +e
  stop_server
  stop_providers
  [ -n "${PG_TEST_DIR:-}" ] && bash "$ROOT/scripts/postgres.sh" stop "$PG_TEST_DIR"
  if [ "$rc" -ne 0 ]; then
    case "$SECTION" in e2e*) print_server_log ;; esac
    printf '\ntest.sh: FAILED in section [%s] (exit %d) after %d s\n' \
      "${SECTION:-?}" "$rc" "$((SECONDS - T0))" >&2
    [ -n "$TMP_DIR" ] && echo "test.sh: server data/log kept in $TMP_DIR" >&2
  elif [ -n "$TMP_DIR" ]; then
    rm -rf "$TMP_DIR"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
begin setup
bash scripts/setup.sh --test
end

begin fmt
cargo fmt --all -- --check
end

begin clippy
cargo clippy -p server -p app -p bench --all-targets --features app/ssr -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
end

begin cargo-test
cargo test --workspace --exclude frontend
end

begin leptos-build
cargo leptos build --frontend-only
[ -x target/debug/server ] || {
  echo "target/debug/server missing after cargo leptos build" >&2
  exit 1
}
[ -d target/site ] || {
  echo "target/site missing after cargo leptos build" >&2
  exit 1
}
end

# ---------------------------------------------------------------------------
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

# Serves the built site from target/debug/server on a free port with a fresh data dir
# and the given database (empty: SQLite in the data dir), with the test identity
# providers, then runs Playwright.
run_e2e() {
  TMP_DIR="$(mktemp -d -t gatehouse-e2e.XXXXXX)"
  SERVER_LOG="$TMP_DIR/server.log"
  local port url
  port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
  url="http://127.0.0.1:$port"
  start_providers "$url" "$TMP_DIR"
  # Every Playwright test signs up from 127.0.0.1: lift the per-address sign-up limit.
  GATEHOUSE_ADDR="127.0.0.1:$port" \
    GATEHOUSE_CONFIG="$TMP_DIR/gatehouse.toml" \
    GATEHOUSE_SIGN_UPS_PER_HOUR=1000000 \
    DATABASE_URL="${1:-sqlite://$TMP_DIR/gatehouse.db}" \
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
  echo "server healthy: $url (database ${1:-SQLite})"
  (cd end2end && GATEHOUSE_URL="$url" npx --no-install playwright test)
  stop_server
  stop_providers
  rm -rf "$TMP_DIR"
  TMP_DIR=""
}

begin e2e-sqlite
run_e2e ""
end

# ---------------------------------------------------------------------------
# The same suites on PostgreSQL 15: a throwaway cluster, stopped on any exit.
begin postgres-start
eval "$(bash scripts/postgres.sh start)"
echo "PostgreSQL cluster at $GATEHOUSE_TEST_POSTGRES (in $PG_TEST_DIR)"
end

begin cargo-test-postgres
cargo test -p server --tests
end

begin e2e-postgres
psql "$GATEHOUSE_TEST_POSTGRES" -q -c "CREATE DATABASE gatehouse_e2e"
run_e2e "${GATEHOUSE_TEST_POSTGRES%/*}/gatehouse_e2e"
end

# ---------------------------------------------------------------------------
printf '\n==================== summary ====================\n'
printf '%s\n' "${SUMMARY[@]}"
echo "test.sh: all sections passed in $((SECONDS - T0)) s"
