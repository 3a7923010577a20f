#!/usr/bin/env bash
# Builds Gatehouse for release (WASM through wasm-opt, assets precompressed with gzip and
# brotli), then runs the bench: a release server on a fresh SQLite database, measured by
# a Rust load generator, and the same on a throwaway PostgreSQL 15 cluster. Each prints a
# table and one JSON line.
#
# Usage: scripts/bench.sh [--seconds N]                 # SQLite, then PostgreSQL
#        scripts/bench.sh --database-url postgres://…/empty_db [--seconds N]   # that one only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NPM_PREFIX="$(npm prefix -g)"
export PATH="$HOME/.cargo/bin:$NPM_PREFIX/bin:$PATH"

bash scripts/setup.sh >&2
cargo leptos build --release --precompress --split >&2
cargo build --quiet -p bench --profile server-release
bench() {
  target/server-release/bench --server target/server-release/server --site-root target/site "$@"
}

if [[ " $* " == *" --database-url "* ]] || [ -n "${BENCH_DATABASE_URL:-}" ]; then
  bench "$@"
  exit
fi

bench "$@"
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$PG_TEST_DIR"' EXIT
bench --database-url "$GATEHOUSE_TEST_POSTGRES" "$@"
