package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/citytwin/citytwin/ingest"
	"github.com/citytwin/citytwin/layers"
)

// The city's own GIS files uploaded by an admin at /admin/import: the same import as
// `citytwin import` (ingest.Run), a dry run first, then the real one. Uploads are streamed to
// a temporary directory, never held in memory, and removed when the request ends.

// AdminImportPath is the upload endpoint; its bodies are bounded by ImportOptions.MaxUploadBytes
// instead of the API's MaxBodyBytes.
const AdminImportPath = "/api/admin/import"

// DefaultMaxUploadBytes bounds an upload (the file, the mapping and the form together) when
// ImportOptions.MaxUploadBytes is 0: 256 MiB, a city's cadastre zipped.
const DefaultMaxUploadBytes = 256 << 20

// maxFormValue bounds each text field of the upload form.
const maxFormValue = 1 << 10

// ImportOptions configure the admin upload page.
type ImportOptions struct {
	// Store is where imports are written: the server's own store.
	Store ingest.Writer
	// MaxUploadBytes bounds an upload (413 beyond); 0: DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// TempDir holds the uploads while they are imported; "": the system's.
	TempDir string
}

func (s *Server) uploadLimit() int64 {
	if o := s.opts.Import; o != nil && o.MaxUploadBytes > 0 {
		return o.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}

// importView is the answer of an upload: the report as a table's rows, what was written.
type importView struct {
	DryRun    bool               `json:"dry_run"`
	Mode      ingest.Mode        `json:"mode"`
	Key       string             `json:"key,omitempty"`
	Layers    []string           `json:"layers"`
	Read      int                `json:"read"`
	Accepted  int                `json:"accepted"`
	Rejected  int                `json:"rejected"`
	MaxErrors int                `json:"max_errors"`
	Sources   []importSourceView `json:"sources"`
	Rejects   []importRejectView `json:"rejects"`
	Written   layers.Counts      `json:"written"`
	Updated   layers.Counts      `json:"updated,omitempty"`
	Inserted  layers.Counts      `json:"inserted,omitempty"`
	Overlaps  int                `json:"overlapping_parcel_pairs"`
	Text      string             `json:"text"` // the report as `citytwin import` prints it
}

type importSourceView struct {
	Name       string         `json:"name"`
	Format     string         `json:"format"`
	Encoding   string         `json:"encoding"`
	Geometry   string         `json:"geometry"`
	CRS        string         `json:"crs"`
	Layer      string         `json:"layer"`
	Skipped    string         `json:"skipped,omitempty"`
	Read       int            `json:"read"`
	Accepted   int            `json:"accepted"`
	Rejected   int            `json:"rejected"`
	Fields     []importField  `json:"fields"`
	Unmapped   []string       `json:"unmapped"`
	Repairs    map[string]int `json:"repairs"`
	Rejections map[string]int `json:"rejections"`
}

type importField struct {
	Source     string `json:"source"`
	Target     string `json:"target"`
	Rule       string `json:"rule,omitempty"`
	Restricted bool   `json:"restricted"`
}

type importRejectView struct {
	Source string `json:"source"`
	Index  int    `json:"index"`
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// maxRejectsShown bounds the rejects an answer lists (the report counts them all).
const maxRejectsShown = 200

func viewImport(res *ingest.Result, key string) importView {
	v := importView{DryRun: res.DryRun, Mode: res.Mode, Key: key, Layers: res.Layers, Written: res.Written,
		Updated: res.Updated, Inserted: res.Inserted, Overlaps: len(res.Overlaps),
		Sources: []importSourceView{}, Rejects: []importRejectView{}}
	if v.Layers == nil {
		v.Layers = []string{}
	}
	rep := res.Report
	if rep == nil {
		return v
	}
	v.Read, v.Accepted, v.Rejected, v.MaxErrors = rep.Read, rep.Accepted, rep.Rejected, rep.MaxErrors
	for _, s := range rep.Sources {
		sv := importSourceView{Name: s.Name, Format: s.Format, Encoding: s.Encoding, Geometry: s.Geometry, CRS: s.CRS,
			Layer: s.Layer, Skipped: s.Skipped, Read: s.Read, Accepted: s.Accepted, Rejected: s.Rejected,
			Fields: []importField{}, Unmapped: s.Unmapped, Repairs: s.Repairs, Rejections: s.Rejections}
		for _, m := range s.Mapped {
			sv.Fields = append(sv.Fields, importField{Source: m.Source, Target: m.Target, Rule: m.Rule, Restricted: m.Restricted})
		}
		v.Sources = append(v.Sources, sv)
	}
	for _, r := range rep.Rejects[:min(len(rep.Rejects), maxRejectsShown)] {
		v.Rejects = append(v.Rejects, importRejectView{Source: r.Source, Index: r.Index, ID: r.ID, Kind: r.Kind, Reason: r.Reason})
	}
	var b strings.Builder
	_ = rep.WriteText(&b)
	_ = res.WriteText(&b)
	v.Text = b.String()
	return v
}

// adminImport: POST /api/admin/import, multipart/form-data — file (a .zip, .shp, .gpkg, .csv,
// .geojson... as `citytwin import` reads them), mapping (a TOML file, optional), and the
// fields layer, srid, mode (append, replace, upsert), key (upsert's field), max_errors,
// encoding and dry_run ("true" unless "false"). 200 with the report and what was written;
// 422 with the error and the report when the import fails (nothing is written then).
func (s *Server) adminImport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.opts.Import == nil || s.opts.Import.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this server does not import files")
		return
	}
	dir, err := os.MkdirTemp(s.opts.Import.TempDir, "citytwin-upload-")
	if err != nil {
		s.writeErr(w, r, fmt.Errorf("upload: %w", err))
		return
	}
	defer os.RemoveAll(dir)
	form, status, err := readUpload(r, dir)
	if err != nil {
		if status == http.StatusRequestEntityTooLarge {
			tooLarge(w, s.uploadLimit())
			return
		}
		writeFieldError(w, status, "invalid", err.Error(), form.field)
		return
	}
	job, field, err := form.job()
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, "invalid", err.Error(), field)
		return
	}
	res, err := ingest.Run(r.Context(), s.opts.Import.Store, job)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error":  map[string]string{"code": "import_failed", "message": strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "") + " (nothing was written)"},
			"report": viewImport(res, job.Key),
		})
		return
	}
	if !job.DryRun {
		s.log.Info("admin import", "file", form.fileName, "mode", job.Mode, "written", res.Written)
	}
	writeJSON(w, http.StatusOK, viewImport(res, job.Key))
}

// uploadForm is what an upload carried: the saved files' paths and the text fields.
type uploadForm struct {
	file, fileName, mapping string
	values                  map[string]string
	field                   string // the form field an error is about
}

// readUpload streams the parts of a multipart upload: the file and the mapping to dir, each
// text field into memory (at most maxFormValue bytes). The status says how it failed.
func readUpload(r *http.Request, dir string) (uploadForm, int, error) {
	form := uploadForm{values: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, http.StatusBadRequest, fmt.Errorf("want a multipart/form-data upload: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return form, uploadStatus(err), fmt.Errorf("read the upload: %w", err)
		}
		name := part.FormName()
		form.field = name
		switch name {
		case "file", "mapping":
			base := filepath.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
			if base == "." || base == "/" || base == "" || strings.HasPrefix(base, ".") {
				return form, http.StatusBadRequest, fmt.Errorf("%s: give a file with its name", name)
			}
			if name == "mapping" {
				base = "mapping-" + base
			}
			path := filepath.Join(dir, base)
			if err := saveUpload(part, path); err != nil {
				return form, uploadStatus(err), fmt.Errorf("%s: %w", name, err)
			}
			if name == "file" {
				form.file, form.fileName = path, filepath.Base(part.FileName())
			} else {
				form.mapping = path
			}
		default:
			b, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
			if err != nil {
				return form, uploadStatus(err), fmt.Errorf("%s: %w", name, err)
			}
			if len(b) > maxFormValue {
				return form, http.StatusBadRequest, fmt.Errorf("%s: longer than %d bytes", name, maxFormValue)
			}
			form.values[name] = strings.TrimSpace(string(b))
		}
		part.Close()
	}
	form.field = ""
	if form.file == "" {
		form.field = "file"
		return form, http.StatusBadRequest, errors.New("file: missing; upload the file to import")
	}
	return form, 0, nil
}

func saveUpload(part *multipart.Part, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, part); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func uploadStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// job makes the form an import job, or says which field is wrong.
func (f uploadForm) job() (ingest.Job, string, error) {
	job := ingest.Job{Path: f.file, DryRun: f.values["dry_run"] != "false"}
	o := &job.Options
	o.Layer, o.Encoding, o.Table = f.values["layer"], f.values["encoding"], f.values["table"]
	var err error
	if job.Mode, err = ingest.ParseMode(f.values["mode"]); err != nil {
		return job, "mode", err
	}
	job.Key = f.values["key"]
	if job.Mode == ingest.Upsert && job.Key == "" {
		return job, "key", errors.New("key: upsert needs the field that matches features (id, cad_number...)")
	}
	for _, n := range []struct {
		name string
		to   *int
	}{{"srid", &o.SRID}, {"max_errors", &o.MaxErrors}} {
		if v := f.values[n.name]; v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x < 0 {
				return job, n.name, fmt.Errorf("%s: %q is not a whole number of 0 or more", n.name, v)
			}
			*n.to = x
		}
	}
	if o.Layer != "" {
		if _, err := layers.Lookup(o.Layer); err != nil {
			return job, "layer", err
		}
	}
	if f.mapping != "" {
		m, err := ingest.LoadMapping(f.mapping)
		if err != nil {
			return job, "mapping", fmt.Errorf("mapping: %s", strings.ReplaceAll(err.Error(), filepath.Dir(f.mapping)+string(filepath.Separator), ""))
		}
		o.Mapping = m
	}
	return job, "", nil
}
