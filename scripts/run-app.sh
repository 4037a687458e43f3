#!/usr/bin/env bash
# `make run`: the Jangkau app against a demo district server on this machine.
#
# Builds the UI (npm ci first if ui/node_modules is missing) and the app, creates the Belu
# demo district (with its generated history of posyandu days, server/src/demodata.rs), serves it on 127.0.0.1:8080 in the background (its request log in
# server.log), prints the accounts and an enrolment code for kader.mawar's tablet last, and
# starts the app with that server prefilled.
# The server stops when the app exits. Everything lives in target/jangkau-run/ (the server's
# database in district.db, the tablet's data in app/): delete it to start over.
#
# Environment: JANGKAU_RUN_DIR (default target/jangkau-run), JANGKAU_LISTEN (default
# 127.0.0.1:8080), CARGO_TARGET_DIR (default target). The app accepts http:// only to
# loopback; a LAN demo needs the server on https:// with a certificate the tablet trusts.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
RUN_DIR="${JANGKAU_RUN_DIR:-$PWD/target/jangkau-run}"
LISTEN="${JANGKAU_LISTEN:-127.0.0.1:8080}"
mkdir -p "$RUN_DIR"

if [ ! -d ui/node_modules ]; then
  npm --prefix ui ci --no-audit --no-fund
fi
npm --prefix ui run build
cargo build --release -p district-server -p jangkau-app

export JANGKAU_DATABASE_URL="$RUN_DIR/district.db"
export JANGKAU_LISTEN="$LISTEN"
# The demo's accounts and enrolment code are printed last, after the server is up; the
# server's request log goes to a file, so nothing scrolls them away.
"$TARGET/release/jangkau-server" demo >"$RUN_DIR/demo.txt" 2>&1 || { cat "$RUN_DIR/demo.txt" >&2; exit 1; }
"$TARGET/release/jangkau-server" serve >"$RUN_DIR/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

# Wait (at most 10 s) until the server answers.
for _ in $(seq 50); do
  if curl -fsS "http://$LISTEN/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "run-app: the server did not start" >&2; exit 1; fi
  sleep 0.2
done

echo
cat "$RUN_DIR/demo.txt"
echo
echo "Server: http://$LISTEN (its log: $RUN_DIR/server.log)."
echo "Dashboard (Dasbor): open http://$LISTEN/ in a browser; log in as dinas / belu-demo-2025."
echo "Starting the app…"

"$TARGET/release/jangkau-app" --data "$RUN_DIR/app" --server "http://$LISTEN"
