#!/usr/bin/env bash
# govulncheck over ./...: fails (exit 3) when the code calls a function with a known
# vulnerability, in a dependency or in the standard library of the Go in use. The database
# is the online one when it answers; otherwise the snapshot in scripts/vulndb/osv.tar.gz
# (see scripts/vulndb/SOURCE for its date and how to refresh it), and the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."

govulncheck=(go run golang.org/x/vuln/cmd/govulncheck@v1.9.0)
online=https://vuln.go.dev
if curl -fsS --max-time 5 -o /dev/null "$online/index/db.json.gz" 2>/dev/null; then
  db=$online
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tar xzf scripts/vulndb/osv.tar.gz -C "$work"
  db="file://$work/osv"
  newest=$(ls "$work/osv" | sort -V | tail -1)
  echo "vulncheck: $online cannot be reached; using the offline snapshot (newest entry ${newest%.json}; see scripts/vulndb/SOURCE)"
fi
"${govulncheck[@]}" -db "$db" ./...
