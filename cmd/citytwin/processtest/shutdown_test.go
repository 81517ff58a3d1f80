package processtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinishesInFlightRequest sends SIGTERM while a client is uploading a change: the
// server stops accepting connections at once, still answers the request in flight, stores
// its change, and exits 0 saying so.
//
// The request is made in flight for certain, without timing guesses, by Expect:
// 100-continue: the server sends "100 Continue" only once the handler reads the body, so
// after it the handler is running and waits for a body the client holds back until the
// server has been told to stop.
func TestSIGTERMFinishesInFlightRequest(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, "--data-dir", dataDir, "--shutdown-timeout", "20s")
	srv.waitReady(60 * time.Second)
	lon, lat := cityCenter(t, srv)
	var scen struct{ ID string }
	mustJSON(t, "create scenario", srv.do("POST", "/api/scenarios", map[string]any{"name": "shutdown"}, nil), &scen)

	body, err := json.Marshal(facilityChange(lon, lat, "in flight"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/scenarios/%s/changes HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nIf-Match: \"1\"\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		scen.ID, srv.addr, plannerToken, len(body))
	rd := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("read 100 Continue: %v", err)
	}
	if resp.StatusCode != http.StatusContinue {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("want 100 Continue, got %d %s", resp.StatusCode, b)
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.waitLog(10*time.Second, `"msg":"shutting down"`)
	refusedIn, ok := pollUntil(5*time.Second, func() bool {
		c, err := net.Dial("tcp", srv.addr)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	if !ok {
		t.Fatal("new connections are still accepted 5 s after SIGTERM")
	}
	t.Logf("new connections refused %s after the shutdown began", refusedIn.Round(time.Millisecond))
	if srv.exited() {
		t.Fatalf("the server exited with a request in flight: %v", srv.err)
	}

	if _, err := conn.Write(body); err != nil {
		t.Fatalf("send the body: %v", err)
	}
	resp, err = http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("read the answer of the request in flight: %v", err)
	}
	answerBody, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the request in flight: status %d %s; want 201", resp.StatusCode, answerBody)
	}
	if code := srv.waitExit(20 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM; want 0", code)
	}
	if !srv.logHas(`"msg":"stopped"`) {
		t.Error(`no "stopped" log line`)
	}

	// The change answered during the shutdown was stored.
	again := startServer(t, "--data-dir", dataDir)
	again.waitReady(60 * time.Second)
	var list struct {
		Changes []change `json:"changes"`
	}
	mustJSON(t, "list changes", again.get("/api/scenarios/"+scen.ID+"/changes"), &list)
	if len(list.Changes) != 1 || list.Changes[0].Properties.Name != "in flight" {
		t.Errorf("after restart the scenario holds %+v; want the one change answered during shutdown", list.Changes)
	}
}

// change is a stored change as the API lists it.
type change struct {
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

// facilityChange is a change that adds a school named name at lon, lat.
func facilityChange(lon, lat float64, name string) map[string]any {
	return map[string]any{
		"kind":       "add_facility",
		"geometry":   map[string]any{"type": "Point", "coordinates": []float64{lon, lat}},
		"properties": map[string]any{"kind": "school", "name": name, "capacity": 100},
	}
}
