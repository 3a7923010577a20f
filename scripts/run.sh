#!/usr/bin/env bash
# Builds Gatehouse in release mode and serves it on http://127.0.0.1:3000.
# The server creates ./data (SQLite database, secret key) on first start.
# Extra arguments are passed to `cargo leptos serve`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NPM_PREFIX="$(npm prefix -g)"
export PATH="$HOME/.cargo/bin:$NPM_PREFIX/bin:$PATH"

bash scripts/setup.sh
echo "run.sh: cargo leptos serve --release --precompress --split (first build takes a while) -> http://127.0.0.1:3000"
# --precompress writes the .br and .gz beside each asset, which the server sends as they
# are; without it the WASM would go out uncompressed (1.6 MB instead of 366 KB).
exec cargo leptos serve --release --precompress --split "$@"
