#!/usr/bin/env bash
# Bounded fuzzing: each fuzz target runs for FUZZTIME (default 200000x: that many inputs, a few
# seconds each), one after another, from its seed corpus in <package>/testdata/fuzz/<target>/.
# A failing input is written there by go test; commit it with the fix so that it stays a
# regression test.
#
#   scripts/fuzz.sh                   # every target, 200,000 inputs each
#   FUZZTIME=2m scripts/fuzz.sh       # longer, by the clock
#
# A count rather than a duration by default: with a duration, Go 1.26's fuzzing coordinator can
# report "context deadline exceeded" as a failure when the time runs out mid-input
# (golang/go#75804, fixed in Go 1.27), which would make the test command fail at random.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-200000x}
targets=(
  "./scenarios FuzzDecodeChange"
  "./data FuzzReadGeoJSON"
  "./data FuzzOSMTagMapping"
  "./tiles FuzzParseTile"
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "fuzz $name ($pkg, $fuzztime)"
  # -parallel 2: the machines have two cores.
  out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg" 2>&1) || {
    echo "$out" >&2
    exit 1
  }
  echo "$out" | grep -E '^fuzz: elapsed' | tail -1
done
