package web

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

func TestZZServeForProfile(t *testing.T) {
	dir := os.Getenv("PROF_DATA")
	if dir == "" {
		t.Skip()
	}
	c, err := spatial.Load(context.Background(), data.NewFileStore(dir))
	if err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create("/tmp/prof-requests.log")
	mb := int64(0)
	if os.Getenv("PROF_CACHE") != "" {
		mb = 256 << 20
	}
	srv := New(Options{Logger: slog.New(slog.NewTextHandler(logf, nil)), TileCache: tiles.NewCache(mb), TileMaxAge: time.Hour, CORSOrigins: []string{"*"}})
	srv.SetCity(c)
	hs := &http.Server{Addr: "127.0.0.1:18090", Handler: srv.Handler()}
	go hs.ListenAndServe()
	time.Sleep(2 * time.Second)
	os.WriteFile("/tmp/prof-ready", []byte("1"), 0o644)
	// wait for the start signal, profile for 15 s
	for {
		if _, err := os.Stat("/tmp/prof-go"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	f, _ := os.Create("/tmp/server.prof")
	pprof.StartCPUProfile(f)
	time.Sleep(15 * time.Second)
	pprof.StopCPUProfile()
	f.Close()
	hs.Close()
}
