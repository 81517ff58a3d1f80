package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/citytwin/citytwin/internal/atomicfile"
)

// FileStore keeps tokens in tokens.json of the memory mode's data directory. Every change
// rewrites the file through a temporary file, fsync and rename, under an exclusive lock on
// tokens.lock, so two commands at once neither lose a token nor leave a torn file; readers
// need no lock, since a rename replaces the file whole.
type FileStore struct {
	Dir string
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns the token store of a data directory (created on first write).
func NewFileStore(dir string) *FileStore { return &FileStore{Dir: dir} }

func (s *FileStore) path() string { return filepath.Join(s.Dir, "tokens.json") }

// tokenFile is the file's shape; a version lets a later format be told apart.
type tokenFile struct {
	Version int     `json:"version"`
	Tokens  []Token `json:"tokens"`
}

// List implements Store. A directory without the file holds no tokens.
func (s *FileStore) List(ctx context.Context) ([]Token, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path(), err)
	}
	return f.Tokens, nil
}

// Create implements Store.
func (s *FileStore) Create(ctx context.Context, t Token) error {
	return s.update(func(ts []Token) ([]Token, error) {
		for _, o := range ts {
			if o.Active() && o.Name == t.Name {
				return nil, fmt.Errorf("%w: %q", ErrExists, t.Name)
			}
			if o.ID == t.ID || o.Hash == t.Hash {
				return nil, fmt.Errorf("%w: token id %s is taken", ErrExists, t.ID)
			}
		}
		return append(ts, t), nil
	})
}

// Revoke implements Store.
func (s *FileStore) Revoke(ctx context.Context, nameOrID string, at time.Time) (Token, error) {
	var revoked Token
	err := s.update(func(ts []Token) ([]Token, error) {
		i := findActive(ts, nameOrID)
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, nameOrID)
		}
		ts[i].RevokedAt = at.UTC().Truncate(time.Microsecond)
		revoked = ts[i]
		return ts, nil
	})
	return revoked, err
}

// findActive returns the index of the active token with the given ID or, failing that, name;
// -1 when there is none. IDs win so that a name that happens to equal an ID cannot hide it.
func findActive(ts []Token, nameOrID string) int {
	for i, t := range ts {
		if t.Active() && t.ID == nameOrID {
			return i
		}
	}
	for i, t := range ts {
		if t.Active() && t.Name == nameOrID {
			return i
		}
	}
	return -1
}

// update applies change to the stored tokens under the directory's lock and writes the
// result.
func (s *FileStore) update(change func([]Token) ([]Token, error)) error {
	if err := atomicfile.MkdirAll(s.Dir); err != nil {
		return fmt.Errorf("create %s: %w", s.Dir, err)
	}
	unlock, err := lockFile(filepath.Join(s.Dir, "tokens.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	ts, err := s.List(context.Background())
	if err != nil {
		return err
	}
	if ts, err = change(ts); err != nil {
		return err
	}
	b, err := json.MarshalIndent(tokenFile{Version: 1, Tokens: ts}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(s.path(), append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.path(), err)
	}
	return nil
}

// lockFile holds an exclusive advisory lock on path until the returned function is called.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock tokens: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}
