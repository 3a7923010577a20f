#!/usr/bin/env bash
# Installs the tools needed to build (and, with --test, to test) Gatehouse.
#
# Idempotent: every step checks first and only installs what is missing, so a
# second run on a ready machine takes a couple of seconds.
#
#   scripts/setup.sh          build/run tools: wasm32 target, cargo-leptos,
#                             wasm-bindgen-cli (version from Cargo.lock), wasm-opt
#   scripts/setup.sh --test   additionally: rustfmt/clippy, chromium, oathtool,
#                             zbarimg, curl, and end2end/node_modules (npm ci)
#
# Expects Rust stable (rustup), node 20 + npm, and (for --test) Debian apt.
set -euo pipefail

START=$SECONDS
WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h | --help)
      sed -n '2,12p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'setup.sh: %s\n' "$*"; }
die() {
  printf 'setup.sh: ERROR: %s\n' "$*" >&2
  exit 1
}

# --- PATH: cargo-installed binaries and npm global binaries ------------------
command -v npm >/dev/null 2>&1 || die "npm not found (node 20 + npm are required)"
NPM_BIN="$(npm prefix -g)/bin"
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
case ":$PATH:" in *":$NPM_BIN:"*) ;; *) PATH="$NPM_BIN:$PATH" ;; esac
export PATH
command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust stable with rustup)"
command -v rustup >/dev/null 2>&1 || die "rustup not found (install Rust stable with rustup)"

# Run as root directly, otherwise through sudo (apt needs it; npm -g only if
# its prefix is not writable, e.g. not for nvm installs).
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
if [ -w "$(dirname "$NPM_BIN")" ]; then NPM_SUDO=(); else NPM_SUDO=("${SUDO[@]}"); fi

# --- Rust target & components --------------------------------------------------
installed_targets="$(rustup target list --installed)"
if grep -qx 'wasm32-unknown-unknown' <<<"$installed_targets"; then
  log "ok: rust target wasm32-unknown-unknown"
else
  log "installing: rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$WITH_TEST" -eq 1 ]; then
  installed_components="$(rustup component list --installed)"
  for comp in rustfmt clippy; do
    if grep -q "^${comp}" <<<"$installed_components"; then
      log "ok: rust component $comp"
    else
      log "installing: rustup component add $comp"
      rustup component add "$comp"
    fi
  done
fi

# --- cargo-leptos ----------------------------------------------------------------
cl_version="$(cargo leptos --version 2>/dev/null || true)"
if grep -qwF "$CARGO_LEPTOS_VERSION" <<<"$cl_version"; then
  log "ok: $cl_version"
else
  log "installing: cargo-leptos $CARGO_LEPTOS_VERSION (found: '${cl_version:-none}'; takes several minutes)"
  # Its own release profile is fat LTO on one codegen unit: a 400-s link on one core for a
  # build tool whose speed nobody notices. Config overrides take precedence over it.
  cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads \
    --config profile.release.lto=false --config profile.release.codegen-units=16 \
    --config profile.release.opt-level=2
fi

# --- wasm-bindgen-cli, same version as the wasm-bindgen crate in Cargo.lock ----
if [ ! -f Cargo.lock ]; then
  log "Cargo.lock missing: cargo generate-lockfile"
  cargo generate-lockfile
fi
WASM_BINDGEN_VERSION="$(awk '
  /^\[\[package\]\]/ { name = "" }
  /^name = /         { name = $3; gsub(/"/, "", name) }
  /^version = /      { if (name == "wasm-bindgen") { v = $3; gsub(/"/, "", v); print v; exit } }
' Cargo.lock)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen package found in Cargo.lock"
wb_version="$(wasm-bindgen --version 2>/dev/null || true)"
if grep -qwF "$WASM_BINDGEN_VERSION" <<<"$wb_version"; then
  log "ok: $wb_version (matches Cargo.lock)"
else
  log "installing: wasm-bindgen-cli $WASM_BINDGEN_VERSION (found: '${wb_version:-none}')"
  # Not --locked: its lock file names a webpki-roots release the registry no longer has.
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --bin wasm-bindgen \
    --config profile.release.lto=false --config profile.release.codegen-units=16
fi

# --- wasm-opt (binaryen), used by release builds ---------------------------------
wo_version="$(wasm-opt --version 2>/dev/null || true)"
if grep -qE "version $BINARYEN_VERSION\b" <<<"$wo_version"; then
  log "ok: $wo_version"
else
  log "installing: npm i -g binaryen@$BINARYEN_VERSION (found: '${wo_version:-none}')"
  "${NPM_SUDO[@]}" npm i -g "binaryen@$BINARYEN_VERSION"
  hash -r
fi

# --- test-only tools -----------------------------------------------------------
if [ "$WITH_TEST" -eq 1 ]; then
  apt_pkgs=()
  [ -x /usr/bin/chromium ] || apt_pkgs+=(chromium)
  command -v oathtool >/dev/null 2>&1 || apt_pkgs+=(oathtool)
  command -v zbarimg >/dev/null 2>&1 || apt_pkgs+=(zbar-tools)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || apt_pkgs+=(postgresql-15)
  command -v psql >/dev/null 2>&1 || apt_pkgs+=(postgresql-client-15)
  command -v curl >/dev/null 2>&1 || apt_pkgs+=(curl)
  command -v python3 >/dev/null 2>&1 || apt_pkgs+=(python3)
  if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    log "installing (apt): ${apt_pkgs[*]}"
    # Wait (up to 10 min) for any other apt/dpkg run instead of failing.
    APT_OPTS=(-o DPkg::Lock::Timeout=600)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y "${apt_pkgs[@]}"
  else
    log "ok: chromium, oathtool, zbarimg, postgresql-15, curl, python3"
  fi

  # Playwright & co. (browser download skipped: tests use /usr/bin/chromium).
  if [ ! -f end2end/node_modules/.package-lock.json ] ||
    [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing: npm ci in end2end/"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  else
    log "ok: end2end/node_modules up to date"
  fi
fi

log "hint: make sure these are on your PATH: $HOME/.cargo/bin and $NPM_BIN"
log "done in $((SECONDS - START)) s"
