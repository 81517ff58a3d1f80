#!/usr/bin/env bash
# Every test of CityTwin. scripts/test.sh runs it through scripts/with-postgis.sh, which exports
# DATABASE_URL of a throwaway PostGIS cluster, after installing what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  echo "run-tests.sh: DATABASE_URL is not set; run scripts/test.sh" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "self-contained"
# A user's clone has nothing beside it: no tracked file may name the folder next to the
# repository (the pattern is spelled so that this file does not match it).
sibling='[.][.]/''shared'
if git rev-parse --git-dir >/dev/null 2>&1; then
  if named=$(git ls-files -z | xargs -0 grep -l -e "$sibling" --); then
    echo "these tracked files name a folder beside the repository: $named" >&2
    exit 1
  fi
fi

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
