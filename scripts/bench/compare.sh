#!/usr/bin/env bash
# Measures running tile servers side by side on one shuffled list of tiles covering a bbox.
#
#   scripts/bench/compare.sh -b w,s,e,n [-z "15 16"] [-d SECONDS] [-r ROUNDS] NAME=URL_TEMPLATE...
#
# URL_TEMPLATE holds {z}, {x} and {y}. Each server gets a 5 s warm-up, then the rounds are taken
# in turn (A B C, A B C, …) so that a noisy machine slows every server alike; the last lines are
# the median req/s of each. Only loopback servers are measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "compare: wrk is missing (apt-get install wrk)" >&2; exit 1; }
zooms="15 16" seconds=20 rounds=2 bbox=""
while getopts b:z:d:r: opt; do
  case $opt in b) bbox=$OPTARG ;; z) zooms=$OPTARG ;; d) seconds=$OPTARG ;; r) rounds=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ -n "$bbox" ] || { echo "compare: -b w,s,e,n is required" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
BBOX=$bbox "$here/tile-list.sh" $zooms | shuf --random-source=<(yes) >"$work/tiles"

for spec in "$@"; do
  name=${spec%%=*} template=${spec#*=}
  origin=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$template")
  case $origin in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "compare: $origin is not on loopback" >&2; exit 2 ;; esac
  path=${template#"$origin"}
  while IFS=/ read -r z x y; do
    p=${path//\{z\}/$z}; p=${p//\{x\}/$x}; echo "${p//\{y\}/$y}"
  done <"$work/tiles" >"$work/$name.paths"
  echo "$origin" >"$work/$name.origin"
  PATHS="$work/$name.paths" wrk -t2 -c32 -d5s -s "$here/paths.lua" "$origin" >/dev/null 2>&1 || true
done

for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*}
    summary=$(PATHS="$work/$name.paths" wrk -t2 -c32 -d"${seconds}s" --timeout 10s -s "$here/paths.lua" "$(cat "$work/$name.origin")" | grep '^SUMMARY')
    echo "$name round $round: ${summary#SUMMARY }"
    sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$summary" >>"$work/$name.rps"
  done
done

echo "median req/s:"
for spec in "$@"; do
  name=${spec%%=*}
  printf '  %s %s\n' "$name" "$(sort -n "$work/$name.rps" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
done
