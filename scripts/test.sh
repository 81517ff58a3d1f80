#!/usr/bin/env bash
# Every test of CityTwin. Run it through scripts/with-postgis.sh (as `make test` does), which
# exports DATABASE_URL of a throwaway PostGIS cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  echo "test.sh: DATABASE_URL is not set; run 'make test'" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

# The independent tile decoder and the style validator in Go tests run on Node modules.
[ -d e2e/node_modules ] || npm ci --prefix e2e --no-audit --no-fund

step "gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './e2e/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi

step "go vet"
go vet ./...

step "go test (PostGIS at ${DATABASE_URL%%\?*})"
go test -count=1 ./...

step "fuzzing (${FUZZTIME:=100000x} a target)"
FUZZTIME=$FUZZTIME scripts/fuzz.sh

step "load test (${LOAD_DURATION:=5s}, loopback)"
LOAD_DURATION=$LOAD_DURATION scripts/load.sh

step "govulncheck"
scripts/vulncheck.sh

if [ -x scripts/test-browser.sh ]; then
  step "browser tests"
  scripts/test-browser.sh
fi
