#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test Jangkau.
# Idempotent: installs only what is missing; safe to run again.
set -euo pipefail

# Debian packages: C toolchain bits for -sys crates (SQLCipher links libcrypto).
DEB_PACKAGES=(pkg-config libssl-dev)

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
