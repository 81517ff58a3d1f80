#!/usr/bin/env bash
# Tile throughput of CityTwin against peer tile servers on one generated city.
#
#   scripts/with-postgis.sh scripts/bench/tiles.sh [-p PARCELS] [-z "15 16"] [-d SECS] [-r ROUNDS] [NAME=URL_TEMPLATE ...]
#
# Generates a deterministic city (default 200,000 parcels: about 150,000 buildings) into the
# PostGIS of DATABASE_URL and into a data directory, starts three CityTwin servers — PostGIS
# source without cache, PostGIS source with its tile cache, memory source without cache — and
# measures them with scripts/bench/compare.sh on the buildings layer, together with any other
# servers given as NAME=URL_TEMPLATE. Those must already be running against the same
# DATABASE_URL; PEERS_START, when set, is a shell command run in the background once the data
# is loaded (it sees DATABASE_URL) to start them. When a server is named pg_tileserv, every
# z>=15 tile is also checked for dropped features (scripts/bench/dropped-ids.mjs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
harness=$root/scripts/bench
parcels=200000 zooms="15 16" dur=20 rounds=2
while getopts p:z:d:r: o; do case $o in p) parcels=$OPTARG;; z) zooms=$OPTARG;; d) dur=$OPTARG;; r) rounds=$OPTARG;; *) exit 2;; esac; done
shift $((OPTIND-1))
: "${DATABASE_URL:?run under scripts/with-postgis.sh (or set DATABASE_URL)}"

work=$(mktemp -d)
pids=()
peers=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # PEERS_START runs in a session of its own: end every process it started, so no peer
  # outlives this run and answers the next one from a database that is gone.
  [ -n "$peers" ] && kill -- "-$peers" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build and generate $parcels parcels"
go build -o "$work/citytwin" "$root/cmd/citytwin"
"$work/citytwin" generate --parcels "$parcels" --database "$DATABASE_URL"
mkdir -p "$work/data"
env -u DATABASE_URL "$work/citytwin" generate --parcels "$parcels" --out "$work/data/layers.ndjson"
bbox=$(psql -XAt "$DATABASE_URL" -c "SELECT concat_ws(',', round(ST_XMin(e)::numeric,4), round(ST_YMin(e)::numeric,4), round(ST_XMax(e)::numeric,4), round(ST_YMax(e)::numeric,4)) FROM (SELECT ST_Extent(geom) e FROM buildings) b")
echo "buildings: $(psql -XAt "$DATABASE_URL" -c 'SELECT count(*) FROM buildings'), bbox $bbox"

serve() { # port, extra flags...
  local port=$1; shift
  "$work/citytwin" serve --addr "127.0.0.1:$port" --log-format text "$@" >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
}
serve 18101 --database "$DATABASE_URL" --tile-cache-mb 0
serve 18102 --database "$DATABASE_URL" --tile-cache-mb 512
env -u DATABASE_URL "$work/citytwin" serve --addr 127.0.0.1:18103 --log-format text --data-dir "$work/data" --tile-cache-mb 0 >"$work/serve-18103.log" 2>&1 &
pids+=($!)
if [ -n "${PEERS_START:-}" ]; then setsid bash -c "$PEERS_START" >"$work/peers.log" 2>&1 & peers=$!; fi
for port in 18101 18102 18103; do
  for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve-$port.log" >&2; exit 1; }
done
sleep "${PEERS_WAIT:-3}"

servers=(
  "postgis=http://127.0.0.1:18101/tiles/buildings/{z}/{x}/{y}.mvt"
  "memory=http://127.0.0.1:18103/tiles/buildings/{z}/{x}/{y}.mvt"
  "cached=http://127.0.0.1:18102/tiles/buildings/{z}/{x}/{y}.mvt"
  "$@"
)
echo "== compare.sh -z \"$zooms\" -d $dur -r $rounds"
"$harness/compare.sh" -b "$bbox" -z "$zooms" -d "$dur" -r "$rounds" "${servers[@]}"

echo "== largest tile per zoom, every public layer in one tile (memory source)"
all=$(curl -fsS http://127.0.0.1:18103/catalog | python3 -c 'import json,sys; print(",".join(l["name"] for l in json.load(sys.stdin)["layers"]))')
for z in ${SIZE_ZOOMS:-12 13 14}; do
  BBOX=$bbox "$harness/tile-list.sh" "$z" "$z" | while read -r zxy; do
    curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:18103/tiles/$all/$zxy.mvt"
  done | sort -n | awk -v z="$z" '{n++; s+=$1; m=$1} END{printf "  z%s: %d tiles, largest %d bytes, mean %d bytes\n", z, n, m, s/n}'
done

for spec in "$@"; do
  case $spec in pg_tileserv=*)
    echo "== dropped features at z>=15 against ${spec#*=}"
    "$root/scripts/install-deps.sh" test
    BBOX=$bbox "$harness/tile-list.sh" 15 16 > "$work/zxy"
    node "$root/scripts/bench/dropped-ids.mjs" "$work/zxy" "${spec#*=}" "http://127.0.0.1:18101/tiles/buildings/{z}/{x}/{y}.mvt" buildings
  esac
done
