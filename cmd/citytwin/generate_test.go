package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateRefusesAFileAndADatabaseAtOnce(t *testing.T) {
	out := filepath.Join(t.TempDir(), "city.ndjson")
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
	err := runGenerate(context.Background(), []string{"--parcels", "10", "--out", out})
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("err = %v, want the two destinations refused", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the file was written: %v", err)
	}
}

func TestGenerateWritesAFile(t *testing.T) {
	noDatabase(t)
	out := filepath.Join(t.TempDir(), "city.ndjson")
	if err := runGenerate(context.Background(), []string{"--parcels", "20", "--out", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"layer":"parcels"`) {
		t.Fatalf("no parcels in the file: %.200s", b)
	}
}
