package processtest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ackedBeforeKill is how many change requests the client must have seen acknowledged
// before the server is killed.
const ackedBeforeKill = 25

// TestKillKeepsAcknowledgedChanges kills the server (SIGKILL) while a client sends scenario
// changes one request after another, batches of one to three changes each, then restarts
// it on the same store: every change the client saw acknowledged is there, in order; of the
// request cut by the kill there is all or nothing; the scenario's version and counts agree
// with its changes; and the scenario takes new changes.
func TestKillKeepsAcknowledgedChanges(t *testing.T) {
	t.Run("memory mode, scenarios in the data directory", func(t *testing.T) {
		killWhileWriting(t, "--data-dir", t.TempDir())
	})
	t.Run("PostGIS mode", func(t *testing.T) {
		killWhileWriting(t, "--database", pgCluster(t).newCityDatabase(t))
	})
}

// writer sends batches of changes to one scenario until a request fails.
type writer struct {
	srv      *server
	id       string
	lon, lat float64

	mu       sync.Mutex
	acked    [][]string // names of the changes of each acknowledged request, in order
	inFlight []string   // the batch whose request failed: stored whole or not at all
	err      error      // an answer that is neither an acknowledgement nor a lost connection
}

func (w *writer) run() {
	version := int64(1)
	for i := 0; i < 5000; i++ {
		var names []string
		var batch []any
		for j := 0; j <= i%3; j++ {
			name := fmt.Sprintf("b%d-%d", i, j)
			names = append(names, name)
			// Spread the schools a little, so that no two changes are the same.
			batch = append(batch, facilityChange(w.lon+float64(i%50)*1e-5, w.lat+float64(j)*1e-5, name))
		}
		a := w.srv.do("POST", "/api/scenarios/"+w.id+"/changes", map[string]any{"changes": batch},
			map[string]string{"If-Match": strconv.FormatInt(version, 10)})
		w.mu.Lock()
		switch {
		case a.err != nil:
			w.inFlight = names
		case a.status != http.StatusCreated:
			w.err = fmt.Errorf("request %d: status %d %s", i, a.status, a.body)
		default:
			w.acked = append(w.acked, names)
			version++
		}
		stop := a.err != nil || a.status != http.StatusCreated
		w.mu.Unlock()
		if stop {
			return
		}
	}
	w.mu.Lock()
	w.err = fmt.Errorf("the server was never killed")
	w.mu.Unlock()
}

func (w *writer) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func killWhileWriting(t *testing.T, storeArgs ...string) {
	srv := startServer(t, storeArgs...)
	srv.waitReady(60 * time.Second)
	w := &writer{srv: srv}
	w.lon, w.lat = cityCenter(t, srv)
	var scen struct{ ID string }
	mustJSON(t, "create scenario", srv.do("POST", "/api/scenarios", map[string]any{"name": "crash"}, nil), &scen)
	w.id = scen.ID

	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run()
	}()
	if _, ok := pollUntil(60*time.Second, func() bool { return w.ackedCount() >= ackedBeforeKill || srv.exited() }); !ok {
		t.Fatalf("only %d requests acknowledged in 60 s", w.ackedCount())
	}
	srv.kill()
	<-done
	if w.err != nil {
		t.Fatal(w.err)
	}
	t.Logf("killed after %d acknowledged requests; the request in flight held %d changes", len(w.acked), len(w.inFlight))

	again := startServer(t, storeArgs...)
	again.waitReady(60 * time.Second)
	var list struct {
		Version int64    `json:"version"`
		Changes []change `json:"changes"`
	}
	mustJSON(t, "list changes", again.get("/api/scenarios/"+w.id+"/changes"), &list)
	var stored []string
	for _, c := range list.Changes {
		stored = append(stored, c.Properties.Name)
	}
	var want []string
	for _, b := range w.acked {
		want = append(want, b...)
	}
	batches := len(w.acked)
	switch {
	case slices.Equal(stored, want):
	case slices.Equal(stored, append(slices.Clone(want), w.inFlight...)):
		batches++ // the cut request was committed, whole, before its answer was lost
	default:
		t.Fatalf("after the kill the scenario holds\n%v\nwant the acknowledged changes\n%v\nfollowed by all or none of %v",
			stored, want, w.inFlight)
	}
	t.Logf("the request cut by the kill was stored: %v", batches > len(w.acked))
	for i, c := range list.Changes {
		if c.Seq != int64(i+1) || c.ID != "c"+strconv.Itoa(i+1) {
			t.Errorf("change %d is %s with seq %d; want c%d, seq %d", i, c.ID, c.Seq, i+1, i+1)
		}
	}

	// One version per request that changed the scenario; the counts agree.
	var sc struct {
		Version   int64 `json:"version"`
		Changes   int   `json:"changes"`
		ChangeSeq int64 `json:"change_seq"`
	}
	mustJSON(t, "get scenario", again.get("/api/scenarios/"+w.id), &sc)
	if want := int64(1 + batches); sc.Version != want || list.Version != want {
		t.Errorf("version %d (changes list: %d) after %d stored requests; want %d", sc.Version, list.Version, batches, want)
	}
	if sc.Changes != len(list.Changes) || sc.ChangeSeq != int64(len(list.Changes)) {
		t.Errorf("the scenario counts %d changes, change_seq %d; it holds %d", sc.Changes, sc.ChangeSeq, len(list.Changes))
	}

	// The store takes writes again, at the version it reports.
	a := again.do("POST", "/api/scenarios/"+w.id+"/changes", facilityChange(w.lon, w.lat, "after restart"),
		map[string]string{"If-Match": strconv.FormatInt(sc.Version, 10)})
	if a.status != http.StatusCreated {
		t.Errorf("a change after the restart: status %d %s", a.status, a.body)
	}
}
