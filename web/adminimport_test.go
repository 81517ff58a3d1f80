package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/data"
)

// uploadFixture is a server whose admin uploads go to a data directory of its own.
type uploadFixture struct {
	*authFixture
	store *data.FileStore
}

func newUploadFixture(t *testing.T, maxBytes int64) *uploadFixture {
	f := newAuthFixture(t)
	st := data.NewFileStore(t.TempDir())
	v := New(Options{Logger: quietLogger, Tokens: access.NewVerifier(f.store, 0, quietLogger), Import: &ImportOptions{Store: st, MaxUploadBytes: maxBytes, TempDir: t.TempDir()}})
	f.h = v.Handler()
	return &uploadFixture{f, st}
}

// upload posts a multipart form: the file under "file", then the fields.
func (f *uploadFixture) upload(t *testing.T, token, name, content string, fields ...string) *httptest.ResponseRecorder {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
	}
	mw.Close()
	r := httptest.NewRequest("POST", AdminImportPath, &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *uploadFixture) parcels(t *testing.T) int {
	t.Helper()
	fs, err := data.ReadFile(filepath.Join(f.store.Dir, "layers.ndjson")) // not the demo city served without one
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range fs {
		if x.Layer == "parcels" {
			n++
		}
	}
	return n
}

// twoParcels is a CSV of two parcels in WGS 84, with their owners (restricted).
const twoParcels = "id,cad_number,owner_name,wkt\n" +
	"1,A,Ana Secretescu,\"POLYGON((7.42 43.73,7.421 43.73,7.421 43.731,7.42 43.731,7.42 43.73))\"\n" +
	"2,B,Bogdan Secretescu,\"POLYGON((7.43 43.73,7.431 43.73,7.431 43.731,7.43 43.731,7.43 43.73))\"\n"

func TestAnAdminUploadsAFileSeesTheDryRunThenImportsIt(t *testing.T) {
	f := newUploadFixture(t, 0)
	w := f.upload(t, f.admin, "parcele.csv", twoParcels, "layer", "parcels", "srid", "4326")
	if w.Code != 200 {
		t.Fatalf("dry run: %d %s", w.Code, w.Body)
	}
	var v importView
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if !v.DryRun || v.Accepted != 2 || v.Mode != "append" || len(v.Sources) != 1 || v.Sources[0].Layer != "parcels" {
		t.Errorf("dry run answered %+v; want a dry run of 2 parcels appended", v)
	}
	if n := f.parcels(t); n != 0 {
		t.Errorf("the dry run wrote %d parcels", n)
	}
	if strings.Contains(w.Body.String(), "Secretescu") {
		t.Errorf("the report shows an owner's name (restricted): %s", w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	w = f.upload(t, f.admin, "parcele.csv", twoParcels, "layer", "parcels", "srid", "4326", "dry_run", "false")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"written":{"parcels":2}`) {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	if n := f.parcels(t); n != 2 {
		t.Errorf("after the import the store holds %d parcels, want 2", n)
	}
	// The same file again, replacing: still 2.
	w = f.upload(t, f.admin, "parcele.csv", twoParcels, "layer", "parcels", "srid", "4326", "dry_run", "false", "mode", "replace")
	if w.Code != 200 || f.parcels(t) != 2 {
		t.Errorf("replace: %d %s; %d parcels stored, want 2", w.Code, w.Body, f.parcels(t))
	}
}

func TestUploadsAreRefusedInClearJSON(t *testing.T) {
	f := newUploadFixture(t, 4096)
	cases := []struct {
		name       string
		token      string
		file       string
		content    string
		fields     []string
		status     int
		code, want string
	}{
		{"without a token", "", "p.csv", twoParcels, nil, 401, "unauthorized", ""},
		{"with a planner's token", "planner", "p.csv", twoParcels, nil, 403, "forbidden", ""},
		{"without a file", "admin", "", "", []string{"layer", "parcels"}, 400, "invalid", "file: missing"},
		{"of an unknown mode", "admin", "p.csv", twoParcels, []string{"mode", "merge"}, 400, "invalid", `mode "merge"`},
		{"of an upsert without its key", "admin", "p.csv", twoParcels, []string{"mode", "upsert"}, 400, "invalid", "upsert needs the field"},
		{"of an unknown layer", "admin", "p.csv", twoParcels, []string{"layer", "castles"}, 400, "invalid", "castles"},
		{"larger than the limit", "admin", "p.csv", strings.Repeat(twoParcels, 20), nil, 413, "too_large", "4096 bytes"},
		{"with a rejected feature over max_errors", "admin", "p.csv", twoParcels + "3,C,,\"POLYGON((1 2))\"\n",
			[]string{"layer", "parcels", "srid", "4326", "dry_run", "false"}, 422, "import_failed", "nothing was written"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := map[string]string{"admin": f.admin, "planner": f.planner}[c.token]
			w := f.upload(t, token, c.file, c.content, c.fields...)
			var e struct {
				Error  apiError
				Report *importView
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("%d, not JSON: %s", w.Code, w.Body)
			}
			if w.Code != c.status || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.want) {
				t.Errorf("%d %s, want %d %s saying %q", w.Code, w.Body, c.status, c.code, c.want)
			}
			if c.code == "import_failed" && (e.Report == nil || e.Report.Rejected != 1) {
				t.Errorf("a failed import's answer lacks its report: %s", w.Body)
			}
			if f.parcels(t) != 0 {
				t.Errorf("a refused upload wrote %d parcels", f.parcels(t))
			}
		})
	}
}
