#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test Jangkau.
# Idempotent: installs only what is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: C toolchain bits for -sys crates (SQLCipher links libcrypto); the Tauri 2
# toolkit (WebKitGTK 4.1, libsoup 3, librsvg, appindicator); the end-to-end test tools
# (WebKitWebDriver from webkit2gtk-driver, a virtual X server; Chromium and chromedriver for
# the web dashboard's browser tests); Node for the UI.
DEB_PACKAGES=(pkg-config libssl-dev build-essential curl file
  libwebkit2gtk-4.1-dev libsoup-3.0-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  webkit2gtk-driver xvfb xauth
  chromium chromium-driver)
command -v node >/dev/null 2>&1 || DEB_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEB_PACKAGES+=(npm)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# Rust components used by the checks.
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

# tauri-driver: the WebDriver bridge the end-to-end tests drive the real app through.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked
fi

# The UI's npm packages (exact versions from ui/package-lock.json).
if [ -f ui/package-lock.json ]; then
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "setup: installing the UI's npm packages"
    npm --prefix ui ci --no-audit --no-fund
  fi
fi

# PostgreSQL for the server's integration tests (127.0.0.1:5432, trust auth).
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "setup: starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
  fi
else
  echo "setup: PostgreSQL client tools not found; the server's PostgreSQL tests need a server at 127.0.0.1:5432" >&2
fi
