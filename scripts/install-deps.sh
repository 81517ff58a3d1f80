#!/usr/bin/env bash
# Installs with Debian's apt what a command of this repository needs and the machine lacks, once:
# a machine that already has everything hears nothing.
#
#   scripts/install-deps.sh postgis   # PostgreSQL 15 with PostGIS 3 and pgRouting (scripts/with-postgis.sh)
#   scripts/install-deps.sh test      # everything scripts/test.sh needs (the default)
#
# As root it installs; otherwise it names the packages to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=() reasons=()
# want CHECK PACKAGES REASON: PACKAGES are needed when the shell test CHECK fails.
want() {
  if ! eval "$1" >/dev/null 2>&1; then
    packages+=($2)
    reasons+=("$3")
  fi
}

want_postgis() {
  want '[ -x /usr/lib/postgresql/15/bin/initdb ] && [ -f /usr/share/postgresql/15/extension/postgis.control ]' \
    postgresql-15-postgis-3 "PostGIS for the database tests"
  want '[ -f /usr/share/postgresql/15/extension/pgrouting.control ]' \
    postgresql-15-pgrouting "pgRouting, the walking network's reference in its tests"
}

want_test() {
  want_postgis
  want 'command -v node && command -v npm' "nodejs npm" "Node for the browser tests and the independent tile decoder"
  want '[ -x /usr/bin/chromium ]' chromium "headless Chromium for the browser tests"
  want 'command -v sqlite3' sqlite3 "sqlite3 to read exported MBTiles"
  want '[ -f /usr/include/zlib.h ]' zlib1g-dev "zlib headers for the OSM PBF reader (cgo)"
  want 'command -v curl' curl "curl for the scripts' readiness checks"
  want 'command -v strace' strace "strace to check that writes reach the disk"
  want 'command -v gcc' gcc "a C compiler for cgo"
  want 'command -v cs2cs && command -v projinfo' proj-bin "PROJ's cs2cs and projinfo for the importer's reprojection"
  want 'command -v ogr2ogr' gdal-bin "GDAL's ogr2ogr and ogrinfo: the importer's other formats, its test fixtures, and the independent OGC API client of the web tests"
}

case "${1:-test}" in
  postgis) want_postgis ;;
  test) want_test ;;
  *) echo "install-deps: unknown group ${1}; use postgis or test" >&2; exit 2 ;;
esac

if [ ${#packages[@]} -gt 0 ]; then
  why=$(IFS=';'; echo "${reasons[*]}" | sed 's/;/; /g')
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing ${packages[*]} ($why); install them with: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${packages[*]} ($why)" >&2
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "install-deps: apt-get failed" >&2
    exit 1
  fi
  rm -f "$log"
fi

# The browser tests and the tile decoder run on the Node modules of e2e/package-lock.json,
# installed again only when the lock file changed.
if [ "${1:-test}" = test ] && ! cmp -s e2e/package-lock.json e2e/node_modules/.citytwin-lock 2>/dev/null; then
  echo "install-deps: installing the Node modules of e2e/package-lock.json (browser tests, tile decoder)" >&2
  npm ci --prefix e2e --no-audit --no-fund --loglevel=error >/dev/null
  cp e2e/package-lock.json e2e/node_modules/.citytwin-lock
fi
