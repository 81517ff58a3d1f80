#!/usr/bin/env bash
# Prints "z/x/y" for every Web Mercator tile that covers a bounding box, zoom by zoom.
#   BBOX=w,s,e,n scripts/bench/tile-list.sh MINZOOM MAXZOOM
set -euo pipefail
: "${BBOX:?set BBOX=w,s,e,n (degrees)}"
awk -v bbox="$BBOX" -v zmin="${1:?minzoom}" -v zmax="${2:?maxzoom}" '
function tilex(lon, n) { return int((lon + 180) / 360 * n) }
function tiley(lat, n,   r) { r = lat * PI / 180; return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / PI) / 2 * n) }
BEGIN {
  PI = atan2(0, -1)
  split(bbox, b, ",")
  for (z = zmin; z <= zmax; z++) {
    n = 2 ^ z
    for (x = tilex(b[1], n); x <= tilex(b[3], n); x++)
      for (y = tiley(b[4], n); y <= tiley(b[2], n); y++)
        printf "%d/%d/%d\n", z, x, y
  }
}'
