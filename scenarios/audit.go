package scenarios

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/citytwin/citytwin/internal/atomicfile"
)

// AuditEntry is one write to a scenario: who made it, when, what and the scenario's version
// after it.
type AuditEntry struct {
	At         time.Time `json:"at"`
	Who        string    `json:"who"`
	Action     string    `json:"action"`
	ScenarioID string    `json:"scenario_id"`
	Version    int64     `json:"version"`
}

// audit records a write by the caller; a write is acknowledged only once it is recorded.
func (s *Service) audit(ctx context.Context, action, id string, version int64) error {
	who := "server"
	if c, ok := callerOf(ctx); ok && c.ID != "" {
		who = c.ID
	}
	if err := s.Store.AppendAudit(ctx, AuditEntry{At: now(), Who: who, Action: action, ScenarioID: id, Version: version}); err != nil {
		return fmt.Errorf("record the audit entry of %s %s: %w", action, id, err)
	}
	return nil
}

// Audit returns the last n audit entries, most recent first.
func (s *Service) Audit(ctx context.Context, n int) ([]AuditEntry, error) {
	return s.Store.Audit(ctx, n)
}

func (s *DirStore) auditPath() string { return filepath.Join(s.dir, "audit.ndjson") }

// AppendAudit implements Store: one JSON line appended to audit.ndjson and synced.
func (s *DirStore) AppendAudit(_ context.Context, e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.auditPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the audit log: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append to the audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync the audit log: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return atomicfile.SyncDir(s.dir)
}

// Audit implements Store.
func (s *DirStore) Audit(_ context.Context, n int) ([]AuditEntry, error) {
	f, err := os.Open(s.auditPath())
	if errors.Is(err, os.ErrNotExist) {
		return []AuditEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open the audit log: %w", err)
	}
	defer f.Close()
	var all []AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // a line a crash cut short
		}
		if all = append(all, e); len(all) > 2*n {
			all = append(all[:0], all[len(all)-n:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	out := make([]AuditEntry, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, all[i])
	}
	return out, nil
}
