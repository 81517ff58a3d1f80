#!/usr/bin/env bash
# The browser tests, e2e/*.test.mjs in Debian's headless Chromium (playwright-core + axe-core),
# run twice against a freshly built server with a planner token:
#   1. memory mode: the embedded demo city, scenarios in a throwaway data directory; this run
#      writes the README's screenshots (docs/screenshots);
#   2. PostGIS: `citytwin serve --database` on a database of its own, created in the cluster of
#      DATABASE_URL, into which `citytwin import` loaded the same demo city
#      (data/demo/monaco.ndjson.gz); tiles come from ST_AsMVT, scenarios live in the database.
#      Its screenshots are thrown away.
# DATABASE_URL must be set (scripts/with-postgis.sh sets it; scripts/test.sh runs this through
# it):   scripts/with-postgis.sh scripts/test-browser.sh
# Both runs always run; the script fails when either does.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  echo "test-browser.sh: DATABASE_URL is not set, and the browser tests run against PostGIS as well as in memory." >&2
  echo "  Run them with a throwaway PostGIS: scripts/with-postgis.sh scripts/test-browser.sh" >&2
  exit 1
fi
# The PostGIS run gets a database of its own beside DATABASE_URL's, so that it meets no other
# test's tables: same server, same credentials, another name.
if ! [[ $DATABASE_URL =~ ^(postgres(ql)?://[^/?]+/)([^/?]+)(\?.*)?$ ]]; then
  echo "test-browser.sh: DATABASE_URL must be a URL naming a database, postgres://USER@HOST:PORT/DB[?...]" >&2
  exit 1
fi
db=citytwin_e2e_$$
db_url="${BASH_REMATCH[1]}$db${BASH_REMATCH[4]}"
psql=$(command -v psql || echo "${CITYTWIN_PG_BIN:-/usr/lib/postgresql/15/bin}/psql")

scripts/install-deps.sh test

work=$(mktemp -d)
port=${CITYTWIN_E2E_PORT:-18092}
token=e2e-planner-token
pid=
stop_server() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
cleanup() {
  stop_server
  "$psql" "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/citytwin" ./cmd/citytwin

# suite MODE SCREENSHOTS SERVE-ARG...: starts `citytwin serve SERVE-ARG...` (without
# DATABASE_URL in its environment), waits until it is ready and says it runs in MODE (memory or
# postgis), runs the browser tests against it (screenshots to SCREENSHOTS, empty:
# docs/screenshots) and stops it.
suite() {
  local name=$1 shots=$2 log="$work/server-$1.log" rc=0 start=$SECONDS ready
  shift 2
  echo "== browser tests against the server in $name mode" >&2
  env -u DATABASE_URL "$work/citytwin" serve --addr "127.0.0.1:$port" --planner-token "$token" "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if ! ready=$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null) || [[ $ready != *'"mode":"'$name'"'* ]]; then
    echo "test-browser.sh: the server did not become ready in $name mode: ${ready:-no answer}" >&2
    cat "$log" >&2
    stop_server
    return 1
  fi
  echo "ready: $ready" >&2
  CITYTWIN_URL="http://127.0.0.1:$port" CITYTWIN_PLANNER_TOKEN="$token" CITYTWIN_E2E_SCREENSHOTS="$shots" \
    CITYTWIN_ADMIN_TOKEN="${admin_token:-}" \
    node --test e2e/ || rc=$?
  if [ $rc -ne 0 ]; then
    echo "--- server log ($name)" >&2
    tail -50 "$log" >&2
  fi
  stop_server
  echo "== $name: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s" >&2
  return $rc
}

failed=()
# Without --database (the server never sees DATABASE_URL) it runs on the embedded demo city.
suite memory "" --data-dir "$work/data" || failed+=(memory)

"$psql" "$DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
"$work/citytwin" import --database "$db_url" data/demo/monaco.ndjson.gz >"$work/import.log" 2>&1 || {
  cat "$work/import.log" >&2
  exit 1
}
# An admin token for the upload page's test (e2e/admin-import.test.mjs), in the PostGIS run
# only: there an import adds to the demo city, while in a data directory it would take the
# embedded city's place under the other tests.
admin_token=$("$work/citytwin" token create --role admin --name e2e-admin --database "$db_url" 2>/dev/null | tail -1)
suite postgis "$work/screenshots" --database "$db_url" || failed+=(postgis)

if [ ${#failed[@]} -gt 0 ]; then
  echo "test-browser.sh: the browser tests failed in ${failed[*]} mode" >&2
  exit 1
fi
