#!/usr/bin/env bash
# Mutation testing of the scenarios, tiles and layers packages with Gremlins
# (github.com/go-gremlins/gremlins): each mutant (an operator or comparison changed in the
# package's code) is applied in a copy of the module, the package's tests run, and the mutant
# is KILLED when they fail, LIVED when they pass. The score is killed / (killed + lived), as
# Gremlins' "test efficacy"; mutants no test reaches are NOT COVERED, and reported apart as
# the mutant coverage. Slow (every mutant runs the package's whole test suite): not part of
# the test command. See docs/benchmarks.md, Mutation testing, for the last figures.
#
# The tests of tiles and scenarios need PostGIS, and so do those of layers/postgis, which
# Gremlins' first, unmutated run of layers takes in: run it through scripts/with-postgis.sh:
#
#   scripts/with-postgis.sh scripts/mutation.sh                        # scenarios tiles layers
#   scripts/with-postgis.sh scripts/mutation.sh tiles                  # one package
#   scripts/with-postgis.sh scripts/mutation.sh -f 'tile|cache' tiles  # only tile.go, cache.go
#   scripts/with-postgis.sh scripts/mutation.sh -s 'TestLargeCityTilesAreSmall' tiles
#
#   -f REGEXP  mutate only the package's files whose name without .go matches REGEXP (whole name)
#   -s REGEXP  leave these tests out of every run (go test -skip): quicker, but then the score
#              only counts the tests that ran
#
# Environment: GREMLINS (the gremlins binary; installed into a temporary GOBIN when neither
# it nor gremlins on PATH exists), MUTATION_OUT (directory of the JSON reports, default a
# temporary one, kept), MUTATION_TIMEOUT_COEFFICIENT (default 3: a mutant's test run may take
# 3 times the first, unmutated run before it counts as TIMED OUT).
#
# Only the package's own files are mutated (not its subpackages such as scenarios/pgstore or
# layers/postgis). One worker: the machines have two cores shared with others.
set -euo pipefail
cd "$(dirname "$0")/.."

gremlins_version=v0.6.0
files='.*'
skip=''
while getopts 'f:s:' opt; do
  case $opt in
    f) files=$OPTARG ;;
    s) skip=$OPTARG ;;
    *) sed -n '2,28p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(scenarios tiles layers)

if [ -z "${DATABASE_URL:-}" ]; then
  echo "mutation.sh: DATABASE_URL is not set; the tests of these packages need PostGIS:" >&2
  echo "  scripts/with-postgis.sh scripts/mutation.sh $*" >&2
  exit 1
fi
command -v jq >/dev/null || { echo "mutation.sh: jq is needed to read Gremlins' reports" >&2; exit 1; }

gremlins=${GREMLINS:-$(command -v gremlins || true)}
if [ -z "$gremlins" ]; then
  gobin=${TMPDIR:-/tmp}/citytwin-gremlins-$gremlins_version
  gremlins=$gobin/gremlins
  if [ ! -x "$gremlins" ]; then
    echo "mutation.sh: installing gremlins $gremlins_version into $gobin" >&2
    GOBIN=$gobin go install "github.com/go-gremlins/gremlins/cmd/gremlins@$gremlins_version"
  fi
fi

# The tiles tests check tiles with an independent decoder in Node (as scripts/test.sh).
scripts/install-deps.sh test

out=${MUTATION_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/citytwin-mutation.XXXXXX")}
mkdir -p "$out"

# -count=1: a cached first run would take no time and make every mutant time out.
goflags="${GOFLAGS:-} -count=1"
[ -z "$skip" ] || goflags="$goflags -skip=$skip"

summary=()
for pkg in "${pkgs[@]}"; do
  [ -d "$pkg" ] || { echo "mutation.sh: no package directory $pkg" >&2; exit 2; }
  # Gremlins mutates every file under the directory; leave out subpackages (any path with a
  # slash) and the files -f does not name.
  exclude=(-E '/')
  for f in "$pkg"/*.go; do
    name=$(basename "$f" .go)
    case $name in *_test) continue ;; esac
    [[ $name =~ ^($files)$ ]] || exclude+=(-E "^${name}\\.go\$")
  done
  report="$out/$pkg.json" log="$out/$pkg.log"
  echo "== $pkg (files: $files${skip:+; tests left out: $skip}); progress in $log"
  start=$(date +%s)
  # Gremlins fails only on its own errors (no threshold is set), e.g. when the tests fail
  # before any mutation.
  if ! GOFLAGS="$goflags" "$gremlins" unleash --workers 1 \
    --timeout-coefficient "${MUTATION_TIMEOUT_COEFFICIENT:-3}" \
    "${exclude[@]}" -o "$report" "./$pkg" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "mutation.sh: gremlins failed on $pkg (log: $log)" >&2
    exit 1
  fi
  took=$(( $(date +%s) - start ))
  grep -E '^ *(LIVED|TIMED OUT|NOT VIABLE) ' "$log" | sed 's/^ */  /' || true
  line=$(jq -r --arg pkg "$pkg" --arg took "$took" '
    [.files[].mutations[].status] as $s
    | ($s | map(select(. == "KILLED")) | length) as $k
    | ($s | map(select(. == "LIVED")) | length) as $l
    | ($s | map(select(. == "TIMED OUT")) | length) as $t
    | ($s | map(select(. == "NOT COVERED")) | length) as $nc
    | ($s | map(select(. == "NOT VIABLE")) | length) as $nv
    | "\($pkg): score \(if $k + $l > 0 then ($k * 1000 / ($k + $l) | round / 10) else "-" end)% "
      + "(killed \($k), lived \($l)); timed out \($t), not viable \($nv), not covered \($nc); "
      + "mutant coverage \(if $k + $l + $nc > 0 then (($k + $l) * 1000 / ($k + $l + $nc) | round / 10) else "-" end)%; "
      + "\($took | tonumber / 60 | . * 10 | round / 10) min"' "$report")
  echo "$line"
  summary+=("$line")
done

echo
echo "== scores (killed / (killed + lived)); reports in $out"
printf '%s\n' "${summary[@]}"
