# The test command starts a throwaway PostGIS (installing it with apt when missing), then runs
# vet, the Go tests (PostGIS-backed ones included), bounded fuzzing and the browser tests.
.PHONY: test serve build bench

test:
	scripts/with-postgis.sh scripts/test.sh

serve:
	go run ./cmd/citytwin serve

build:
	go build -o bin/citytwin ./cmd/citytwin

bench:
	scripts/with-postgis.sh go test -run '^$$' -bench . -benchtime 3x ./...
