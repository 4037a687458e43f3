#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, format, lints, every test (unit, property,
# integration against real PostgreSQL, system tests on both server backends, the UI's
# component tests, and the end-to-end tests of the real app under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

# The app embeds ui/dist at compile time: build the UI before anything compiles jangkau-app.
echo "== UI: build, type check, component tests"
npm --prefix ui run build
npm --prefix ui run check
npm --prefix ui test

echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
target_dir="${CARGO_TARGET_DIR:-target}"
# The server's FHIR tests leave every resource they build here for the structural check below.
rm -rf "$target_dir/fhir-samples"
if cargo nextest --version >/dev/null 2>&1; then
  # Doc tests first, so that the run ends with nextest's summary of every test.
  cargo test --workspace --locked --doc
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

echo "== FHIR R4 structural check of the export (tools/fhir-check: its own workspace, see its Cargo.toml)"
cargo clippy --locked --manifest-path tools/fhir-check/Cargo.toml --target-dir "$target_dir/fhir-check" -- -D warnings
cargo run --locked --manifest-path tools/fhir-check/Cargo.toml --target-dir "$target_dir/fhir-check" -- "$target_dir/fhir-samples"

echo "== end-to-end: the real app under Xvfb, through tauri-driver, and the web dashboard in Chromium, against a real server"
cargo build --locked -p jangkau-app -p district-server -p jangkau-cli --bins
bin_dir="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug"
JANGKAU_APP_BIN="$bin_dir/jangkau-app" \
JANGKAU_SERVER_BIN="$bin_dir/jangkau-server" \
JANGKAU_CLI_BIN="$bin_dir/jangkau" \
  npm --prefix ui run e2e
