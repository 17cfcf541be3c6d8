package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type buildManifest struct {
	Sources    string   `json:"sources"`
	MapLibreGL string   `json:"maplibre_gl"`
	Esbuild    string   `json:"esbuild"`
	Files      []string `json:"files"`
}

func readManifest(t *testing.T) buildManifest {
	t.Helper()
	b, err := dist.ReadFile("dist/build.json")
	if err != nil {
		t.Fatalf("dist/build.json is not embedded: run web/build.sh (make web): %v", err)
	}
	var m buildManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("dist/build.json: %v", err)
	}
	return m
}

// sourcesHash must match sourcesHash in build.mjs.
func sourcesHash(t *testing.T) string {
	t.Helper()
	files := []string{"build.mjs", "package.json", "package-lock.json"}
	err := filepath.WalkDir("src", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, filepath.ToSlash(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n%d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBundleUpToDate fails when the sources changed after the committed
// bundle was built, or when the bundle is missing a file it lists.
func TestBundleUpToDate(t *testing.T) {
	m := readManifest(t)
	if got := sourcesHash(t); got != m.Sources {
		t.Errorf("web/dist was built from other sources (build.json %s…, tree %s…): run `make web` and commit web/dist", m.Sources[:12], got[:12])
	}
	if m.MapLibreGL == "" || m.Esbuild == "" {
		t.Errorf("build.json names no versions: %+v", m)
	}
	var js, worker bool
	for _, f := range m.Files {
		b, err := dist.ReadFile("dist/" + f)
		if err != nil {
			t.Errorf("build.json lists %s, which is not embedded: %v", f, err)
			continue
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", f)
		}
		switch {
		case strings.HasPrefix(f, "assets/app-") && strings.HasSuffix(f, ".js"):
			js = len(b) > 100_000 // MapLibre alone is several hundred kB
		case strings.HasPrefix(f, "assets/maplibre-gl-worker-"):
			worker = true
		}
	}
	if !js || !worker {
		t.Errorf("bundle lacks the app script (%v) or the MapLibre worker (%v): %v", js, worker, m.Files)
	}
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func assetNames(t *testing.T) (js, css, worker string) {
	t.Helper()
	for _, f := range readManifest(t).Files {
		switch {
		case strings.HasPrefix(f, "assets/app-") && strings.HasSuffix(f, ".js"):
			js = "/" + f
		case strings.HasPrefix(f, "assets/app-") && strings.HasSuffix(f, ".css"):
			css = "/" + f
		case strings.HasPrefix(f, "assets/maplibre-gl-worker-"):
			worker = "/" + f
		}
	}
	return js, css, worker
}

func TestHandlerServes(t *testing.T) {
	h := Handler()
	js, css, worker := assetNames(t)
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		cache       string
	}{
		{name: "root is index.html", method: "GET", path: "/", status: 200, contentType: "text/html; charset=utf-8", cache: "no-cache"},
		{name: "index.html by name", method: "GET", path: "/index.html", status: 200, contentType: "text/html; charset=utf-8", cache: "no-cache"},
		{name: "hashed script", method: "GET", path: js, status: 200, contentType: "text/javascript; charset=utf-8", cache: "public, max-age=31536000, immutable"},
		{name: "hashed stylesheet", method: "GET", path: css, status: 200, contentType: "text/css; charset=utf-8", cache: "public, max-age=31536000, immutable"},
		{name: "module worker", method: "GET", path: worker, status: 200, contentType: "text/javascript; charset=utf-8", cache: "public, max-age=31536000, immutable"},
		{name: "catalogue is not hashed", method: "GET", path: "/assets/catalogue.json", status: 200, contentType: "application/json", cache: "no-cache"},
		{name: "licence text", method: "GET", path: "/assets/maplibre-gl-LICENSE.txt", status: 200, contentType: "text/plain; charset=utf-8", cache: "no-cache"},
		{name: "HEAD", method: "HEAD", path: "/", status: 200, contentType: "text/html; charset=utf-8", cache: "no-cache"},
		{name: "unknown file", method: "GET", path: "/assets/nope.js", status: 404},
		{name: "build metadata stays private", method: "GET", path: "/build.json", status: 404},
		{name: "directory", method: "GET", path: "/assets/", status: 404},
		{name: "POST", method: "POST", path: "/", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, h, tt.method, tt.path, nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD wrote %d bytes", len(body))
			}
			if tt.method == "GET" && len(body) == 0 {
				t.Error("empty body")
			}
		})
	}
}

func TestHandlerGzipAndETag(t *testing.T) {
	h := Handler()
	js, _, _ := assetNames(t)
	plainRes := serve(t, h, "GET", js, nil)
	plain, _ := io.ReadAll(plainRes.Body)
	if plainRes.Header.Get("Content-Encoding") != "" {
		t.Fatalf("gzip without Accept-Encoding")
	}
	tests := []struct {
		name   string
		accept string
		gzip   bool
	}{
		{name: "gzip", accept: "gzip, deflate, br", gzip: true},
		{name: "gzip with weight", accept: "br;q=1.0, gzip;q=0.8", gzip: true},
		{name: "gzip refused", accept: "gzip;q=0, br", gzip: false},
		{name: "identity", accept: "identity", gzip: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, h, "GET", js, map[string]string{"Accept-Encoding": tt.accept})
			body, _ := io.ReadAll(res.Body)
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Fatalf("gzipped %v, want %v", got, tt.gzip)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Error("no Vary: Accept-Encoding")
			}
			if tt.gzip {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, err = io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if res.Header.Get("ETag") == plainRes.Header.Get("ETag") {
					t.Error("gzipped and plain bodies share a strong ETag")
				}
			}
			if !bytes.Equal(body, plain) {
				t.Error("body differs from the plain one")
			}
			again := serve(t, h, "GET", js, map[string]string{"Accept-Encoding": tt.accept, "If-None-Match": `"other", ` + res.Header.Get("ETag")})
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match with the ETag: status %d, want 304", again.StatusCode)
			}
		})
	}
}

// TestIndexReferencesServedAssets checks that every script, stylesheet
// and icon index.html names is served, and that the page is locked to its
// own origin.
func TestIndexReferencesServedAssets(t *testing.T) {
	h := Handler()
	res := serve(t, h, "GET", "/", nil)
	body, _ := io.ReadAll(res.Body)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "connect-src 'self'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(body), -1)
	if len(refs) < 3 {
		t.Fatalf("index.html names %d assets, want the script, the stylesheet and the icon", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, "//") {
			t.Errorf("index.html loads %s from another origin", ref)
			continue
		}
		if r := serve(t, h, "GET", "/"+strings.TrimPrefix(ref, "/"), nil); r.StatusCode != 200 {
			t.Errorf("index.html names %s: status %d", ref, r.StatusCode)
		}
	}
}

func TestCatalogue(t *testing.T) {
	res := serve(t, Handler(), "GET", "/assets/catalogue.json", nil)
	var doc struct {
		Categories []catalogueCategory `json:"categories"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// E0102 is 市容环境/暴露垃圾 in CJ/T 214-2007's event classes.
	tests := []struct {
		name string
		code string
		want catalogueCategory
	}{
		{name: "event", code: "E0102", want: catalogueCategory{Code: "E0102", Kind: "event", Major: "市容环境", Minor: "暴露垃圾", MajorEN: "City appearance", MinorEN: "Exposed rubbish"}},
		{name: "component", code: "C0101", want: catalogueCategory{Code: "C0101", Kind: "component", Major: "公用设施", Minor: "上水井盖", MajorEN: "Public utilities", MinorEN: "Water supply manhole cover"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range doc.Categories {
				if c.Code == tt.code {
					if c != tt.want {
						t.Errorf("got %+v, want %+v", c, tt.want)
					}
					return
				}
			}
			t.Errorf("%s missing from %d categories", tt.code, len(doc.Categories))
		})
	}
}

func TestNewHandlerWithoutIndex(t *testing.T) {
	fsys := os.DirFS(t.TempDir())
	if _, err := newHandler(fsys); err == nil {
		t.Fatal("no error for a tree without dist/index.html")
	}
}

// TestVaryOnce checks that a Vary set by middleware in front (the API's
// gzip layer) is not repeated.
func TestVaryOnce(t *testing.T) {
	h := Handler()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	rec.Header().Add("Vary", "Accept-Encoding")
	h.ServeHTTP(rec, req)
	if got := rec.Result().Header.Values("Vary"); len(got) != 1 {
		t.Errorf("Vary %q, want it once", got)
	}
}
