#!/usr/bin/env bash
# Runs every Gatehouse check, failing fast:
#   setup (tools) -> rustfmt -> layers (scripts/check-layers.py: no import cycle,
#   no upward import) -> clippy (server/app, frontend wasm) -> cargo test (unit +
#   integration) -> cargo leptos build -> Playwright e2e against a freshly started
#   server (free port, empty temp data dir), then the integration tests and
#   Playwright again on a throwaway PostgreSQL 15 cluster.
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

on_exit() {
  local rc=$?
  set +e
  [ -n "${PG_TEST_DIR:-}" ] && bash "$ROOT/scripts/postgres.sh" stop "$PG_TEST_DIR"
  if [ "$rc" -ne 0 ]; then
    printf '\ntest.sh: FAILED in section [%s] (exit %d) after %d s\n' \
      "${SECTION:-?}" "$rc" "$((SECONDS - T0))" >&2
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

begin layers
python3 scripts/check-layers.py --self-test
python3 scripts/check-layers.py
end

begin clippy
cargo clippy -p server -p app -p bench --all-targets --features app/ssr -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
end

begin cargo-test
cargo test --workspace --exclude frontend
end

begin leptos-build
cargo leptos build --frontend-only --split
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
begin e2e-sqlite
bash scripts/e2e.sh
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
bash scripts/e2e.sh "${GATEHOUSE_TEST_POSTGRES%/*}/gatehouse_e2e"
end

# ---------------------------------------------------------------------------
printf '\n==================== summary ====================\n'
printf '%s\n' "${SUMMARY[@]}"
echo "test.sh: all sections passed in $((SECONDS - T0)) s"
