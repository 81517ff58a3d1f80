# Shortcuts. The test command is scripts/test.sh (make is not needed for it): it installs what
# the tests need, starts a throwaway PostGIS and runs every test.
.PHONY: test serve build bench

test:
	scripts/test.sh

serve:
	go run ./cmd/citytwin serve

build:
	go build -o bin/citytwin ./cmd/citytwin

bench:
	scripts/with-postgis.sh go test -run '^$$' -bench . -benchtime 3x ./...
