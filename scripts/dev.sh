#!/usr/bin/env bash
# The edit-run loop: serves a debug build of Gatehouse on http://127.0.0.1:3000 and
# rebuilds and restarts it whenever a source file changes (reload the page after).
# Like scripts/run.sh, it installs missing tools first and the server keeps its data in
# ./data (SQLite database, secret key), created on first start.
#
# Usage: scripts/dev.sh [CARGO-LEPTOS WATCH ARGS...] [-- SERVER ARGS...]
#   scripts/dev.sh                          # debug build, rebuilt on change
#   scripts/dev.sh -- --log-format json     # arguments after -- go to the server
# Env:   every GATEHOUSE_* setting of the README's Configuration table, and RUST_LOG.
set -euo pipefail

case "${1:-}" in
  -h | --help)
    sed -n '2,10p' "$0"
    exit 0
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NPM_PREFIX="$(npm prefix -g)"
export PATH="$HOME/.cargo/bin:$NPM_PREFIX/bin:$PATH"

bash scripts/setup.sh
echo "dev.sh: cargo leptos watch --split (rebuilds on change) -> http://127.0.0.1:3000"
# --split as in every build: without it the JS glue imports __wasm_split_placeholder__
# and no page hydrates.
exec cargo leptos watch --split "$@"
