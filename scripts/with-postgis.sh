#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL + PostGIS cluster on loopback.
# Usage: scripts/with-postgis.sh COMMAND [ARG...]
# Installs postgresql-15-postgis-3 and postgresql-15-pgrouting with apt when they are missing
# (scripts/install-deps.sh), creates the cluster in a temporary directory on a free port, exports
# DATABASE_URL to COMMAND, and removes the cluster afterwards whatever COMMAND's outcome.
set -euo pipefail

pgbin=/usr/lib/postgresql/15/bin
"$(dirname "$0")/install-deps.sh" postgis

dir=$(mktemp -d /tmp/citytwin-pg.XXXXXX)
# free_port prints a loopback port nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo 55432
}
port=${PGPORT_TEST:-$(free_port)}
runas=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: run the cluster as the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
  chown postgres "$dir"
  runas=(runuser -u postgres --)
fi
cleanup() {
  "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${runas[@]}" "$pgbin/initdb" -D "$dir/data" -U citytwin --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
CONF
"${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
"${runas[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U citytwin citytwin
# Installed once here: test packages run in parallel, and two CREATE EXTENSION racing each
# other fail on the catalog's unique index.
"${runas[@]}" "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U citytwin -d citytwin -c "CREATE EXTENSION postgis" -c "CREATE EXTENSION pgrouting" >/dev/null
export DATABASE_URL="postgres://citytwin@127.0.0.1:$port/citytwin?sslmode=disable"
export CITYTWIN_PG_DIR="$dir/data" CITYTWIN_PG_BIN="$pgbin" CITYTWIN_PG_RUNAS="${runas[*]}"
echo "with-postgis: PostGIS on 127.0.0.1:$port ($dir)" >&2
"$@"
