// Package web serves the command-centre dashboard: the static files that
// web/build.sh bundles into dist/ (MapLibre GL JS and the app), embedded in
// the binary so that gridd serves them with no outside network.
//
// dist/ is committed: `go run ./cmd/gridd` cannot run npm. `make web`
// rebuilds it, and TestBundleUpToDate fails when src/ changed since.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gridd/gridd/incidents"
)

//go:embed dist
var dist embed.FS

// Cache lifetimes: hashed names change with their content, so browsers
// may keep them a year; everything else is revalidated by ETag.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
)

// hashedName matches the content-hashed names build.mjs gives assets.
var hashedName = regexp.MustCompile(`-[0-9a-f]{12}\.[a-z]+$`)

// contentSecurityPolicy keeps the page on its own server: scripts,
// workers, styles and every fetch (API, tiles) from the same origin only.
// Inline style attributes are allowed for legend swatches and labels.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
	".png":  "image/png",
	".pbf":  "application/x-protobuf",
}

// compressible types are served gzipped to clients that accept it.
var compressible = map[string]bool{".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true, ".svg": true, ".txt": true, ".pbf": true}

type asset struct {
	body        []byte
	contentType string
	cache       string
	etag        string
	compress    bool

	gzOnce sync.Once
	gz     []byte
}

func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		_, _ = zw.Write(a.body)                                  // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		a.gz = buf.Bytes()
	})
	return a.gz
}

type handler struct {
	assets map[string]*asset // by URL path
}

// Handler serves the dashboard: index.html at / (and /index.html), the
// bundle under /assets/, and the category catalogue at
// /assets/catalogue.json. Mount it as the router's last, catch-all route.
func Handler() http.Handler {
	h, err := newHandler(dist)
	if err != nil {
		// The files are embedded at build time, so this is a broken build:
		// say so on every request rather than take the API down with it.
		msg := fmt.Sprintf("the dashboard is not available: %v", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, msg, http.StatusInternalServerError)
		})
	}
	return h
}

func newHandler(fsys fs.FS) (*handler, error) {
	sub, err := fs.Sub(fsys, "dist")
	if err != nil {
		return nil, err
	}
	h := &handler{assets: map[string]*asset{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if p == "build.json" {
			return nil // build metadata, for the tests
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		h.add("/"+p, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded dashboard: %w", err)
	}
	index, ok := h.assets["/index.html"]
	if !ok {
		return nil, fmt.Errorf("embedded dashboard has no index.html: run web/build.sh")
	}
	h.assets["/"] = index
	cat, err := catalogueJSON(incidents.Builtin())
	if err != nil {
		return nil, err
	}
	h.add("/assets/catalogue.json", cat)
	return h, nil
}

func (h *handler) add(urlPath string, body []byte) {
	ext := path.Ext(urlPath)
	ct := contentTypes[ext]
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	sum := sha256.Sum256(body)
	a := &asset{
		body:        body,
		contentType: ct,
		cache:       cacheRevalid,
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		compress:    compressible[ext] && len(body) > 512,
	}
	if hashedName.MatchString(urlPath) {
		a.cache = cacheImmutable
	}
	h.assets[urlPath] = a
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.URL.Path]
	if !ok {
		writeProblem(w, http.StatusNotFound, "no such endpoint or file: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", a.cache)
	hd.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(a.contentType, "text/html") {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("Referrer-Policy", "same-origin")
	}
	body, etag := a.body, a.etag
	if a.compress {
		// The API's gzip middleware, in front of this handler, may have set it.
		if !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Accept-Encoding") {
			hd.Add("Vary", "Accept-Encoding")
		}
		if acceptsGzip(r) {
			body, etag = a.gzipped(), strings.TrimSuffix(a.etag, `"`)+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		hd.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// writeProblem answers with RFC 9457 problem+json like the API, since
// the dashboard is mounted as the API router's catch-all route.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	b, _ := json.Marshal(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail}) // plain strings marshal
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// acceptsGzip reads Accept-Encoding, honouring an explicit q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// etagMatch implements If-None-Match's weak comparison over a list.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag {
			return true
		}
	}
	return false
}

type catalogueCategory struct {
	Code    string `json:"code"`
	Kind    string `json:"kind"`
	Major   string `json:"major"`
	Minor   string `json:"minor"`
	MajorEN string `json:"major_en"`
	MinorEN string `json:"minor_en"`
}

// catalogueJSON lists the categories for the dashboard's filter, with
// their Chinese and English names.
func catalogueJSON(c *incidents.Catalogue) ([]byte, error) {
	var doc struct {
		Categories []catalogueCategory `json:"categories"`
	}
	doc.Categories = []catalogueCategory{}
	for _, cat := range c.All() {
		doc.Categories = append(doc.Categories, catalogueCategory{
			Code: cat.Code, Kind: cat.Kind, Major: cat.Major, Minor: cat.Minor, MajorEN: cat.MajorEN, MinorEN: cat.MinorEN,
		})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode category catalogue: %w", err)
	}
	return b, nil
}
