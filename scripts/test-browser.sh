#!/usr/bin/env bash
# The browser tests: build the server, run it on the embedded demo city with a throwaway data
# directory and a planner token, wait until it is ready, then run e2e/*.test.mjs in Debian's
# headless Chromium (playwright-core + axe-core).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test

work=$(mktemp -d)
port=${CITYTWIN_E2E_PORT:-18092}
token=e2e-planner-token
go build -o "$work/citytwin" ./cmd/citytwin
env -u DATABASE_URL "$work/citytwin" serve --addr "127.0.0.1:$port" --planner-token "$token" \
  --data-dir "$work/data" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready" >&2; cat "$work/server.log" >&2; exit 1; }

CITYTWIN_URL="http://127.0.0.1:$port" CITYTWIN_PLANNER_TOKEN="$token" node --test e2e/ || {
  echo "--- server log" >&2; tail -50 "$work/server.log" >&2; exit 1; }
