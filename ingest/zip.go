package ingest

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsafeZip marks an archive that is refused before anything of it is used: a member
// whose path escapes the folder it is unpacked in, a link, or more bytes than the limits allow.
var ErrUnsafeZip = errors.New("unsafe zip archive")

// UnzipLimits bound what unpacking an archive may write. Zero values take the defaults.
type UnzipLimits struct {
	// MaxBytes bounds the total unpacked size (default 8 GiB).
	MaxBytes int64
	// MaxRatio bounds a member's unpacked size over its packed size (default 200). Deflate
	// reaches about 1030:1 on repeated bytes; a DBF of wide, mostly blank text fields
	// reaches 50–100:1.
	MaxRatio int64
}

const (
	defaultMaxUnzipped = 8 << 30
	defaultMaxRatio    = 200
	// ratioFloor: members smaller than this are not held to the ratio (tiny files of
	// repeated bytes compress far more than 200:1 and harm no one).
	ratioFloor = 1 << 20
)

// unzip unpacks the archive into dir and returns the paths of the files it wrote. Sizes
// are counted as the bytes come out, not taken from the archive's headers, which lie in a
// zip bomb.
func unzip(archive, dir string, lim UnzipLimits) ([]string, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = defaultMaxUnzipped
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = defaultMaxRatio
	}
	zr, err := zip.OpenReader(archive)
	if errors.Is(err, zip.ErrInsecurePath) { // with GODEBUG=zipinsecurepath=0
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeZip, archive, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, archive, err)
	}
	defer zr.Close()
	// Every name is checked before anything is written.
	for _, f := range zr.File {
		if err := checkZipName(f); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeZip, archive, err)
		}
	}
	var total int64
	var out []string
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(path.Clean(f.Name)))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, fmt.Errorf("unzip %s: %w", archive, err)
		}
		n, err := unzipFile(f, target, lim.MaxBytes-total, lim.MaxRatio)
		total += n
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", archive, f.Name, err)
		}
		out = append(out, target)
	}
	return out, nil
}

// checkZipName refuses absolute paths, paths climbing out with "..", and links.
func checkZipName(f *zip.File) error {
	name := strings.ReplaceAll(f.Name, `\`, "/")
	if name == "" || strings.HasPrefix(name, "/") || filepath.VolumeName(name) != "" || (len(name) > 1 && name[1] == ':') {
		return fmt.Errorf("member %q has an absolute path", f.Name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("member %q climbs out of the archive's folder with ..", f.Name)
		}
	}
	if f.Mode()&os.ModeSymlink != 0 || f.Mode()&os.ModeType&^os.ModeDir != 0 {
		return fmt.Errorf("member %q is not a plain file (%v)", f.Name, f.Mode().Type())
	}
	return nil
}

// unzipFile writes one member, stopping as soon as it passes the bytes left or the ratio.
func unzipFile(f *zip.File, target string, left, maxRatio int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	defer rc.Close()
	w, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, fmt.Errorf("unzip: %w", err)
	}
	defer w.Close()
	byRatio := max(int64(f.CompressedSize64)*maxRatio, ratioFloor)
	limit := min(left, byRatio)
	n, err := io.Copy(w, io.LimitReader(rc, limit+1))
	switch {
	case err != nil:
		return n, fmt.Errorf("%w: %v", ErrFormat, err)
	case n > limit && limit == left:
		return n, fmt.Errorf("%w: unpacked size passes the limit of %d bytes", ErrUnsafeZip, left)
	case n > limit:
		return n, fmt.Errorf("%w: unpacks to more than %d times its packed size of %d bytes (a zip bomb?)", ErrUnsafeZip, maxRatio, f.CompressedSize64)
	}
	return n, w.Close()
}
