#!/usr/bin/env bash
# Runs every Gatehouse check, failing fast:
#   setup (tools) -> rustfmt -> clippy (server/app, frontend wasm) ->
#   cargo test (unit + integration) -> cargo leptos build -> Playwright e2e
#   against a freshly started server (free port, empty temp data dir).
#
# Usage: scripts/test.sh
# Env:   RUST_LOG (server log level, default "info")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NPM_PREFIX="$(npm prefix -g)"
export PATH="$HOME/.cargo/bin:$NPM_PREFIX/bin:$PATH"

T0=$SECONDS
SECTION=""
SECTION_T0=$SECONDS
SUMMARY=()
SERVER_PID=""
SERVER_LOG=""
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

on_exit() {
  local rc=$?
  set +e
  stop_server
  if [ "$rc" -ne 0 ]; then
    [ "$SECTION" = "e2e" ] && print_server_log
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
cargo clippy -p server -p app --all-targets --features app/ssr -- -D warnings
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
begin e2e
TMP_DIR="$(mktemp -d -t gatehouse-e2e.XXXXXX)"
SERVER_LOG="$TMP_DIR/server.log"
PORT="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"

export GATEHOUSE_ADDR="127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$TMP_DIR/gatehouse.db"
export GATEHOUSE_SECRET_KEY_FILE="$TMP_DIR/secret.key"
export LEPTOS_SITE_ROOT=target/site
export LEPTOS_OUTPUT_NAME=gatehouse
export LEPTOS_SITE_ADDR="127.0.0.1:$PORT"
export RUST_LOG="${RUST_LOG:-info}"

echo "starting target/debug/server on $URL (data dir $TMP_DIR)"
"$ROOT/target/debug/server" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 60))
until curl -fsS --max-time 2 "$URL/healthz" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" && server_rc=0 || server_rc=$?
    SERVER_PID=""
    echo "server exited (status $server_rc) before becoming healthy" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "server not healthy at $URL/healthz after 60 s" >&2
    exit 1
  fi
  sleep 0.5
done
echo "server healthy after $((SECONDS - SECTION_T0)) s: $URL/healthz"

(cd end2end && GATEHOUSE_URL="$URL" npx --no-install playwright test)
stop_server
end

# ---------------------------------------------------------------------------
printf '\n==================== summary ====================\n'
printf '%s\n' "${SUMMARY[@]}"
echo "test.sh: all sections passed in $((SECONDS - T0)) s"
