#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/install-deps.sh: PostGIS, Chromium,
# Node, … with apt, once), starts a throwaway PostGIS (scripts/with-postgis.sh) and runs every
# test in it (scripts/run-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
exec scripts/with-postgis.sh scripts/run-tests.sh
