package processtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a PostgreSQL cluster of this package's own, made like scripts/with-postgis.sh
// makes its one, with the binaries that script exports (CITYTWIN_PG_BIN, run as
// CITYTWIN_PG_RUNAS when root). Tests stop and start it at will; other packages' tests use
// the script's cluster and never notice.
type cluster struct {
	bin   string   // directory of initdb, pg_ctl
	runas []string // command prefix that runs the server as its system user; empty: as we are
	dir   string   // the cluster's directory (data/, log, socket)
	port  int

	templated bool // cityTemplate exists
}

var (
	clusterMu sync.Mutex
	shared    *cluster
	dbSeq     atomic.Int64
)

// pgCluster returns the package's cluster, made on first use, running.
func pgCluster(t *testing.T) *cluster {
	t.Helper()
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if shared == nil {
		c, err := newCluster()
		if err != nil {
			t.Fatal(err)
		}
		shared = c
	}
	if err := shared.ensureRunning(); err != nil {
		t.Fatal(err)
	}
	return shared
}

// closeCluster removes the package's cluster, if one was made.
func closeCluster() error {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if shared == nil {
		return nil
	}
	_ = shared.pgctl("stop", "-m", "immediate")
	return os.RemoveAll(shared.dir)
}

func newCluster() (*cluster, error) {
	bin := os.Getenv("CITYTWIN_PG_BIN")
	if bin == "" {
		return nil, fmt.Errorf("CITYTWIN_PG_BIN is not set: these tests run a PostgreSQL cluster of their own " +
			"with the binaries scripts/with-postgis.sh finds. Run scripts/test.sh, or " +
			"`scripts/with-postgis.sh go test ./cmd/citytwin/processtest/`")
	}
	c := &cluster{bin: bin, runas: strings.Fields(os.Getenv("CITYTWIN_PG_RUNAS"))}
	// The directory must belong to the user the server runs as: let that user make it.
	mk := exec.Command("mktemp", "-d", filepath.Join(os.TempDir(), "citytwin-processtest-pg.XXXXXX"))
	if len(c.runas) > 0 {
		mk = exec.Command(c.runas[0], append(c.runas[1:], mk.Args...)...)
	}
	out, err := mk.Output()
	if err != nil {
		return nil, fmt.Errorf("make the cluster directory: %w", err)
	}
	c.dir = strings.TrimSpace(string(out))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// --no-sync: initdb's own files need not reach the disk for a throwaway cluster (it saves
	// seconds); the running cluster keeps fsync on, which the crash test relies on.
	if err := c.run(filepath.Join(c.bin, "initdb"), "-D", c.data(), "-U", "citytwin", "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"max_connections = 100\nshared_buffers = 32MB\nfsync = on\n", c.port, c.dir)
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("configure the cluster: %w", err)
	}
	return c, nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs a PostgreSQL server binary as the cluster's user.
func (c *cluster) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if len(c.runas) > 0 {
		cmd = exec.Command(c.runas[0], append(c.runas[1:], append([]string{name}, args...)...)...)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return nil
}

func (c *cluster) pgctl(args ...string) error {
	return c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-w"}, args...)...)
}

// stop stops the cluster as an administrator would for maintenance (fast: open sessions are
// ended) and returns once it is down.
func (c *cluster) stop() error { return c.pgctl("stop", "-m", "fast") }

// start starts the cluster and returns once it accepts connections.
func (c *cluster) start() error { return c.pgctl("start") }

// signal sends sig to every process of the cluster: the postmaster and its children (the
// sessions' backends, the checkpointer...). SIGSTOP makes a database that accepts TCP
// connections and never answers, as a hung host or a network partition does; SIGCONT ends it.
func (c *cluster) signal(sig syscall.Signal) error {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("read postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && pid == pm {
			return fmt.Errorf("signal the postmaster: %w", err)
		}
	}
	return nil
}

// ensureRunning starts the cluster unless it runs.
func (c *cluster) ensureRunning() error {
	if c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.data(), "status") == nil {
		return nil
	}
	return c.start()
}

// url is the address of database name in the cluster.
func (c *cluster) url(name string) string {
	return fmt.Sprintf("postgres://citytwin@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// cityTemplate is the database every test database is copied from: migrated, holding a
// small generated city. Copying it is much quicker than migrating and importing each time.
const cityTemplate = "citytwin_city"

// newCityDatabase creates a database of its own for a test, holding the small generated city
// of cityTemplate (made on first use), and returns its address.
func (c *cluster) newCityDatabase(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		t.Fatalf("connect to the cluster: %v", err)
	}
	defer conn.Close(ctx)
	if !c.templated {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+cityTemplate); err != nil {
			t.Fatalf("create database: %v", err)
		}
		runCommand(t, "generate", "--parcels", "500", "--seed", "7", "--database", c.url(cityTemplate))
		c.templated = true
	}
	name := fmt.Sprintf("citytwin_%d", dbSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+cityTemplate); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return c.url(name)
}
