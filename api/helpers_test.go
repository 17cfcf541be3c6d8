package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/gpkg"
)

// The test city: 300 grids, 3000 incidents, published from 2025-01-01.
const (
	testGrids     = 300
	testIncidents = 3000
)

var testFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// cityData is the generated city and incidents, made once per test binary.
type cityData struct {
	city []*grids.Grid
	recs []fixtures.IncidentRecord
	// streets are two street codes with incidents, for scope tests.
	streetA, streetB string
}

var (
	cityOnce sync.Once
	cityVal  cityData
	cityErr  error

	baseOnce sync.Once
	basePath string
	baseKeys map[string]string
	baseErr  error
)

func testCity(t testing.TB) cityData {
	t.Helper()
	cityOnce.Do(func() {
		city, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: testGrids, Seed: 1})
		if err != nil {
			cityErr = err
			return
		}
		recs := fixtures.GenerateIncidents(city, nil, fixtures.IncidentOptions{Incidents: testIncidents, Seed: 1})
		perStreet := map[string]int{}
		for _, r := range recs {
			if len(r.GridCode) == 15 {
				perStreet[r.GridCode[:9]]++
			}
		}
		var streets []string
		for s := range perStreet {
			streets = append(streets, s)
		}
		sort.Strings(streets)
		if len(streets) < 2 {
			cityErr = errors.New("test city has fewer than two streets with incidents")
			return
		}
		cityVal = cityData{city: city, recs: recs, streetA: streets[0], streetB: streets[1]}
	})
	if cityErr != nil {
		t.Fatal(cityErr)
	}
	return cityVal
}

// inputOf turns a fixture record into the input the API takes.
func inputOf(t testing.TB, r fixtures.IncidentRecord) incidents.Input {
	t.Helper()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	in, err := incidents.ParseJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// loadCity publishes the city and ingests its incidents through b.
func loadCity(t testing.TB, ctx context.Context, b *Backend, cd cityData) {
	t.Helper()
	if _, err := b.ImportGrids(ctx, "test city", cd.city, true, testFrom); err != nil {
		t.Fatalf("import grids: %v", err)
	}
	items := make([]IngestItem, 0, len(cd.recs))
	for i, r := range cd.recs {
		items = append(items, IngestItem{Line: i + 1, Input: inputOf(t, r)})
	}
	res, err := b.Ingest(ctx, items, "test")
	if err != nil {
		for _, r := range res {
			if r.Error != "" {
				t.Fatalf("ingest line %d: %s", r.Line, r.Error)
			}
		}
		t.Fatalf("ingest: %v", err)
	}
}

// testKeyNames are the keys of the base store: one per role, and scoped
// ones for two streets.
func testKeyNames(cd cityData) map[string]struct {
	role  Role
	scope string
} {
	type spec = struct {
		role  Role
		scope string
	}
	m := map[string]spec{}
	for _, r := range Roles() {
		m[r.String()] = spec{r, ""}
	}
	m["a-viewer"] = spec{RoleViewer, cd.streetA}
	m["a-reporter"] = spec{RoleReporter, cd.streetA}
	m["a-analyst"] = spec{RoleAnalyst, cd.streetA}
	m["a-admin"] = spec{RoleAdmin, cd.streetA}
	m["b-reporter"] = spec{RoleReporter, cd.streetB}
	return m
}

// baseStore builds, once, a GeoPackage holding the test city, its
// incidents and the test keys; fixtures copy it.
func baseStore(t testing.TB) (string, map[string]string) {
	t.Helper()
	cd := testCity(t)
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gridd-api-test-")
		if err != nil {
			baseErr = err
			return
		}
		basePath = filepath.Join(dir, "base.gpkg")
		st, err := gpkg.Open(basePath)
		if err != nil {
			baseErr = err
			return
		}
		defer st.Close()
		ctx := context.Background()
		b, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
		if err != nil {
			baseErr = err
			return
		}
		loadCity(t, ctx, b, cd)
		baseKeys = map[string]string{}
		for name, sp := range testKeyNames(cd) {
			secret, k, err := NewKey(sp.role, sp.scope, name, time.Now())
			if err != nil {
				baseErr = err
				return
			}
			if err := st.CreateKey(ctx, k); err != nil {
				baseErr = err
				return
			}
			baseKeys[name] = secret
		}
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return basePath, baseKeys
}

func TestMain(m *testing.M) {
	code := m.Run()
	if basePath != "" {
		os.RemoveAll(filepath.Dir(basePath))
	}
	os.Exit(code)
}

// fixture is a running server over a copy of the base store.
type fixture struct {
	t    testing.TB
	st   store.Store
	b    *Backend
	srv  *Server
	http *httptest.Server
	keys map[string]string
	city cityData
}

type fixtureOptions struct {
	open       bool
	cacheBytes int64
	// st, when set, is used instead of a copy of the base store.
	st store.Store
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	cd := testCity(t)
	f := &fixture{t: t, city: cd}
	ctx := context.Background()
	if o.st == nil {
		src, keys := baseStore(t)
		dst := filepath.Join(t.TempDir(), "gridd.gpkg")
		copyFile(t, src, dst)
		st, err := gpkg.Open(dst)
		if err != nil {
			t.Fatal(err)
		}
		f.st, f.keys = st, keys
	} else {
		f.st = o.st
	}
	t.Cleanup(func() { f.st.Close() })
	b, err := OpenBackend(ctx, f.st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.b = b
	f.srv = New(Options{Backend: b, Logger: slog.New(slog.DiscardHandler), Open: o.open, TileCacheBytes: o.cacheBytes})
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(f.http.Close)
	return f
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v\n%s", r.header.Get("Content-Type"), err, r.body)
	}
}

// problem decodes a problem+json body.
func (r response) problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error answer has Content-Type %q, want application/problem+json: %s", ct, r.body)
	}
	var p Problem
	r.json(t, &p)
	return p
}

// do sends a request as key (a key name of the base store, "" for none)
// and reads the whole answer, ungzipped when the server compressed it.
func (f *fixture) do(method, path, key, contentType string, body []byte, hdr ...string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.http.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		secret, ok := f.keys[key]
		if !ok {
			secret = key // a literal secret
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	// Ask for gzip explicitly so that the transport leaves the body as sent.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	res, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			f.t.Fatalf("%s %s: bad gzip: %v", method, path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			f.t.Fatalf("%s %s: bad gzip: %v", method, path, err)
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

func (f *fixture) get(path, key string) response { return f.do(http.MethodGet, path, key, "", nil) }

// mustGet fetches path and fails unless the status is want.
func (f *fixture) mustGet(path, key string, want int) response {
	f.t.Helper()
	r := f.get(path, key)
	if r.status != want {
		f.t.Fatalf("GET %s as %q: status %d, want %d: %s", path, key, r.status, want, truncate(r.body))
	}
	return r
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// streetOf is the street code of a grid code, "" when unassigned.
func streetOf(code string) string {
	if len(code) < 9 {
		return ""
	}
	return code[:9]
}

// recsIn are the fixture records whose true grid starts with prefix.
func (cd cityData) recsIn(prefix string) []fixtures.IncidentRecord {
	var out []fixtures.IncidentRecord
	for _, r := range cd.recs {
		if r.GridCode != "" && strings.HasPrefix(r.GridCode, prefix) {
			out = append(out, r)
		}
	}
	return out
}
