#!/usr/bin/env bash
# Load test on loopback: build the server and cmd/citytwin-load, start the server on the
# embedded demo city in memory mode (throwaway data directory, a planner token, no rate limit
# so one generator can reach the server's own limit), then run the mixed workload for
# LOAD_DURATION (default 60s) with LOAD_WORKERS closed-loop clients (default 16). Fails when
# an answer was a 5xx, a request failed, or an acknowledged write is missing.
#
#   scripts/load.sh                    # 60 s
#   LOAD_DURATION=5s scripts/load.sh   # the short run of scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${LOAD_DURATION:-60s}
workers=${LOAD_WORKERS:-16}
port=${CITYTWIN_LOAD_PORT:-18093}
token=load-planner-token
work=$(mktemp -d)
go build -o "$work/citytwin" ./cmd/citytwin
go build -o "$work/citytwin-load" ./cmd/citytwin-load

env -u DATABASE_URL "$work/citytwin" serve --addr "127.0.0.1:$port" --data-dir "$work/data" \
  --planner-token "$token" --rate-limit 0 --log-format text >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { tail -50 "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready" >&2; tail -50 "$work/server.log" >&2; exit 1; }

echo "load: $duration, $workers workers, server pid $pid on 127.0.0.1:$port"
"$work/citytwin-load" --url "http://127.0.0.1:$port" --token "$token" --duration "$duration" \
  --workers "$workers" --server-pid "$pid" || {
  status=$?
  echo "--- server log (errors)" >&2
  grep -E 'level=(ERROR|WARN)|status=5' "$work/server.log" | tail -30 >&2 || true
  exit $status
}
# What the server's memory holds at the end: the tile cache grows up to its budget
# (--tile-cache-mb) and the scenario engine keeps the last run of up to 256 scenarios.
curl -fsS "http://127.0.0.1:$port/metrics" |
  awk '/^citytwin_tile_cache_bytes /{c=$2} /^go_memstats_heap_inuse_bytes /{h=$2}
       END{printf "server heap in use %.1f MiB, of which tile cache %.1f MiB\n", h/1048576, c/1048576}'
