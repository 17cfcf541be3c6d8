package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/tiles"
)

// cityBoundOf is the bound of the test city's grids.
func cityBoundOf(cd cityData) orb.Bound {
	b := cd.city[0].Bound()
	for _, g := range cd.city[1:] {
		b = b.Union(g.Bound())
	}
	return b
}

// cityTile is the deepest tile (up to z14) holding the whole city.
func cityTile(t *testing.T, cd cityData) tiles.TileID {
	t.Helper()
	b := cityBoundOf(cd)
	for z := maptile.Zoom(14); ; z-- {
		lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
		hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
		if lo == hi {
			return tiles.TileID{Z: uint32(z), X: lo.X, Y: lo.Y}
		}
		if z == 0 {
			t.Fatal("the city fits in no tile")
		}
	}
}

// tileAt is the tile of zoom z holding p.
func tileAt(p orb.Point, z int) tiles.TileID {
	mt := maptile.At(p, maptile.Zoom(z))
	return tiles.TileID{Z: uint32(z), X: mt.X, Y: mt.Y}
}

func tilePath(layer string, id tiles.TileID, query string) string {
	p := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, id.Z, id.X, id.Y)
	if query != "" {
		p += "?" + query
	}
	return p
}

// decodeTile reads a tile body with orb's decoder; an empty body is no layer.
func decodeTile(t *testing.T, body []byte) mvt.Layers {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return ls
}

func sumProp(ls mvt.Layers, layer, prop string) int {
	n := 0
	for _, l := range ls {
		if l.Name != layer {
			continue
		}
		for _, f := range l.Features {
			if v, ok := f.Properties[prop].(float64); ok {
				n += int(v)
			}
		}
	}
	return n
}

func requireGDAL(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ogrinfo", "ogr2ogr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install -y gdal-bin): %v", tool, err)
		}
	}
}

// gdalTile is a tile as GDAL's MVT driver reads it: features of its only
// layer as GeoJSON, and ogrinfo's summary.
type gdalTile struct {
	Name     string `json:"name"`
	layer    string
	count    int
	fields   []string
	Features []struct {
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Type string `json:"type"`
		} `json:"geometry"`
	}
}

// readWithGDAL saves a tile and reads it back with ogr2ogr; with summary,
// ogrinfo's count and field list are checked against it too.
func readWithGDAL(t *testing.T, dir, name string, id tiles.TileID, body []byte, summary bool) gdalTile {
	t.Helper()
	path := filepath.Join(dir, name+".mvt")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	oo := []string{"-oo", fmt.Sprint("Z=", id.Z), "-oo", fmt.Sprint("X=", id.X), "-oo", fmt.Sprint("Y=", id.Y)}
	js, err := exec.Command("ogr2ogr", append(append([]string{"-f", "GeoJSON", "/vsistdout/"}, oo...), path)...).Output()
	if err != nil {
		t.Fatalf("ogr2ogr %s: %v", name, err)
	}
	var g gdalTile
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatalf("ogr2ogr %s output: %v", name, err)
	}
	g.layer, g.count = g.Name, len(g.Features)
	seen := map[string]bool{}
	for _, f := range g.Features {
		for k := range f.Properties {
			if !seen[k] && k != "mvt_id" {
				seen[k] = true
				g.fields = append(g.fields, k)
			}
		}
	}
	if !summary {
		return g
	}
	out, err := exec.Command("ogrinfo", append(append([]string{"-ro", "-al", "-so"}, oo...), path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", name, err, out)
	}
	var layer string
	var count int
	var fields []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := regexp.MustCompile(`^Layer name: (\S+)`).FindStringSubmatch(line); m != nil {
			layer = m[1]
		} else if m := regexp.MustCompile(`^Feature Count: (\d+)`).FindStringSubmatch(line); m != nil {
			count, _ = strconv.Atoi(m[1])
		} else if m := regexp.MustCompile(`^(\w+): (String|Integer|Integer64|Real)`).FindStringSubmatch(line); m != nil && m[1] != "mvt_id" {
			fields = append(fields, m[1])
		}
	}
	if layer != g.layer || count != g.count || len(fields) != len(g.fields) {
		t.Errorf("ogrinfo sees layer %q, %d features, fields %v; ogr2ogr %q, %d, %v", layer, count, fields, g.layer, g.count, g.fields)
	}
	return g
}

func (g gdalTile) sum(prop string) int {
	n := 0
	for _, f := range g.Features {
		if v, ok := f.Properties[prop].(float64); ok {
			n += int(v)
		}
	}
	return n
}

func (g gdalTile) hasFields(want ...string) bool {
	for _, w := range want {
		found := false
		for _, f := range g.fields {
			found = found || f == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestTilesReadByGDAL fetches tiles from the running server and reads
// them with GDAL's MVT driver: layers, feature counts and attributes
// against the fixture's truth.
func TestTilesReadByGDAL(t *testing.T) {
	requireGDAL(t)
	f := newFixture(t, fixtureOptions{})
	cd := f.city
	dir := t.TempDir()
	ct := cityTile(t, cd)
	total := len(cd.recs)
	perGrid := map[string]int{}
	for _, r := range cd.recs {
		perGrid[r.GridCode]++
	}
	minZoom := tiles.DefaultGridMinZoom()
	wantGrids := 0
	for _, g := range cd.city {
		if int(ct.Z) >= minZoom[g.Level] {
			wantGrids++
		}
	}

	fetch := func(layer string, id tiles.TileID, query, key string) []byte {
		t.Helper()
		r := f.mustGet(tilePath(layer, id, query), key, http.StatusOK)
		if ctype := r.header.Get("Content-Type"); ctype != mvtType {
			t.Fatalf("Content-Type %q", ctype)
		}
		return r.body
	}

	t.Run("grids city tile", func(t *testing.T) {
		g := readWithGDAL(t, dir, "grids", ct, fetch("grids", ct, "", "analyst"), true)
		if g.layer != "grids" || g.count != wantGrids || len(g.Features) != wantGrids {
			t.Fatalf("layer %q with %d features (%d read), want grids with %d", g.layer, g.count, len(g.Features), wantGrids)
		}
		if !g.hasFields("code", "name", "level", "count") {
			t.Errorf("fields %v", g.fields)
		}
		districts := 0
		for _, ft := range g.Features {
			if ft.Properties["level"] == "district" {
				districts += int(ft.Properties["count"].(float64))
			}
			if ft.Geometry.Type != "Polygon" && ft.Geometry.Type != "MultiPolygon" {
				t.Errorf("grid %v is a %s", ft.Properties["code"], ft.Geometry.Type)
			}
		}
		if districts != total-perGrid[""] {
			t.Errorf("district counts add up to %d, want the %d incidents in grids", districts, total-perGrid[""])
		}
	})

	t.Run("grids leaf tile counts", func(t *testing.T) {
		var leaf *grids.Grid
		for _, g := range cd.city {
			if g.Level == grids.LevelGrid && perGrid[g.Code] > 0 {
				leaf = g
				break
			}
		}
		id := tileAt(leaf.Bound().Center(), 14)
		g := readWithGDAL(t, dir, "grids14", id, fetch("grids", id, "", "analyst"), false)
		checked := 0
		for _, ft := range g.Features {
			code, _ := ft.Properties["code"].(string)
			if ft.Properties["level"] != "grid" {
				continue
			}
			if got := int(ft.Properties["count"].(float64)); got != perGrid[code] {
				t.Errorf("grid %s: count %d, fixture has %d", code, got, perGrid[code])
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no leaf grid in the tile")
		}
	})

	t.Run("grids counts for a period and category", func(t *testing.T) {
		q := "from=2026-10-01&to=2026-10-15&category=E0102"
		g := readWithGDAL(t, dir, "gridsq", ct, fetch("grids", ct, q, "analyst"), false)
		from, _ := parseTime("2026-10-01")
		to, _ := parseTime("2026-10-15")
		want := 0
		for _, r := range cd.recs {
			if r.GridCode != "" && r.CategoryCode == "E0102" && !r.ReportedAt.Before(from) && r.ReportedAt.Before(to) {
				want++
			}
		}
		got := 0
		for _, ft := range g.Features {
			if ft.Properties["level"] == "district" {
				got += int(ft.Properties["count"].(float64))
			}
		}
		if got != want || want == 0 {
			t.Errorf("period counts add up to %d, fixture has %d", got, want)
		}
	})

	t.Run("incidents clusters", func(t *testing.T) {
		g := readWithGDAL(t, dir, "incidents", ct, fetch("incidents", ct, "", "analyst"), false)
		if g.layer != "incidents" || g.count == 0 || !g.hasFields("count") {
			t.Fatalf("layer %q, %d features, fields %v", g.layer, g.count, g.fields)
		}
		if got := g.sum("count"); got != total {
			t.Errorf("clusters hold %d incidents, want %d", got, total)
		}
	})

	t.Run("incidents singles", func(t *testing.T) {
		r := cd.recs[0]
		id := tileAt(orb.Point{r.WGSLon, r.WGSLat}, 16)
		g := readWithGDAL(t, dir, "singles", id, fetch("incidents", id, "", "analyst"), false)
		if !g.hasFields("id", "category", "status", "grid") {
			t.Fatalf("fields %v", g.fields)
		}
		found := false
		for _, ft := range g.Features {
			if ft.Properties["grid"] == r.GridCode && ft.Properties["category"] == r.CategoryCode && ft.Geometry.Type == "Point" {
				found = true
			}
		}
		if !found {
			t.Errorf("incident %s (grid %s) not among the %d features", r.ExternalID, r.GridCode, g.count)
		}
	})

	t.Run("heat", func(t *testing.T) {
		g := readWithGDAL(t, dir, "heat", ct, fetch("heat", ct, "", "analyst"), false)
		if g.layer != "heat" || !g.hasFields("count", "density") {
			t.Fatalf("layer %q, fields %v", g.layer, g.fields)
		}
		if got := g.sum("count"); got != total {
			t.Errorf("heat cells hold %d incidents, want %d", got, total)
		}
		// Cells of a deep tile are small enough to hold few incidents.
		r := cd.recs[0]
		deep := tileAt(orb.Point{r.WGSLon, r.WGSLat}, 15)
		g = readWithGDAL(t, dir, "heat15", deep, fetch("heat", deep, "", "analyst"), false)
		pub := readWithGDAL(t, dir, "heatpub", deep, fetch("heat", deep, "", "viewer"), false)
		small := 0
		for _, ft := range g.Features {
			if c := int(ft.Properties["count"].(float64)); c < KAnonymity {
				small += c
			}
		}
		for _, ft := range pub.Features {
			if c := int(ft.Properties["count"].(float64)); c < KAnonymity {
				t.Fatalf("viewer heat shows a cell of %d incidents", c)
			}
		}
		if small == 0 || pub.sum("count") != g.sum("count")-small {
			t.Errorf("viewer heat holds %d, want %d (all but the %d in small cells)", pub.sum("count"), g.sum("count")-small, small)
		}
	})

	t.Run("hotspots", func(t *testing.T) {
		g := readWithGDAL(t, dir, "hotspots", ct, fetch("hotspots", ct, "cell_m=500", "analyst"), false)
		if g.layer != "hotspots" || g.count == 0 || !g.hasFields("count", "z", "p", "bin") {
			t.Fatalf("layer %q, %d features, fields %v", g.layer, g.count, g.fields)
		}
		hot := 0
		for _, ft := range g.Features {
			b := int(ft.Properties["bin"].(float64))
			if b < -3 || b > 3 {
				t.Fatalf("bin %d", b)
			}
			if b > 0 {
				hot++
			}
		}
		// The generator plants hotspots: some cells must come out hot.
		if hot == 0 {
			t.Error("no hot cell")
		}
		if got := g.sum("count"); got > total || got < total*9/10 {
			t.Errorf("cells hold %d of %d incidents", got, total)
		}
		pub := readWithGDAL(t, dir, "hotpub", ct, fetch("hotspots", ct, "cell_m=500", "viewer"), false)
		for _, ft := range pub.Features {
			if c := int(ft.Properties["count"].(float64)); c < KAnonymity {
				t.Fatalf("viewer hotspots show a cell of %d incidents", c)
			}
		}
		if pub.count >= g.count {
			t.Errorf("viewer sees %d cells, analyst %d: small cells were not withheld", pub.count, g.count)
		}
	})
}

func TestTileHTTP(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ct := cityTile(t, f.city)
	path := tilePath("heat", ct, "")

	gz := f.get(path, "analyst")
	if gz.status != http.StatusOK || gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, encoding %q", gz.status, gz.header.Get("Content-Encoding"))
	}
	etag := gz.header.Get("ETag")
	if !strings.HasSuffix(etag, `-gz"`) || !strings.Contains(gz.header.Get("Vary"), "Authorization") {
		t.Errorf("ETag %q, Vary %q", etag, gz.header.Get("Vary"))
	}
	plain := f.do(http.MethodGet, path, "analyst", "", nil, "Accept-Encoding", "identity")
	if plain.status != http.StatusOK || plain.header.Get("Content-Encoding") != "" || string(plain.body) != string(gz.body) {
		t.Fatalf("identity: status %d, encoding %q, same bytes %v", plain.status, plain.header.Get("Content-Encoding"), string(plain.body) == string(gz.body))
	}
	if pe := plain.header.Get("ETag"); pe == etag || pe != strings.TrimSuffix(etag, `-gz"`)+`"` {
		t.Errorf("identity ETag %q beside gzip ETag %q", pe, etag)
	}
	for _, inm := range []string{etag, plain.header.Get("ETag"), `"x", ` + etag, "W/" + etag, "*"} {
		if r := f.do(http.MethodGet, path, "analyst", "", nil, "If-None-Match", inm); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("If-None-Match %s: status %d", inm, r.status)
		}
	}
	if r := f.do(http.MethodGet, path, "analyst", "", nil, "If-None-Match", `"other"`); r.status != http.StatusOK {
		t.Errorf("stale If-None-Match: status %d", r.status)
	}

	// An empty tile: far from the city.
	if r := f.get(tilePath("heat", tiles.TileID{Z: 10, X: 0, Y: 0}, ""), "analyst"); r.status != http.StatusNoContent {
		t.Errorf("empty tile: status %d", r.status)
	}

	bad := []struct {
		name, path, key string
		status          int
	}{
		{"zoom too deep", "/tiles/heat/23/0/0.mvt", "analyst", 400},
		{"x outside", "/tiles/heat/2/4/0.mvt", "analyst", 400},
		{"signed", "/tiles/heat/2/-1/0.mvt", "analyst", 400},
		{"unknown layer", "/tiles/roads/2/1/1.mvt", "analyst", 404},
		{"bad period", "/tiles/heat/2/1/1.mvt?from=yesterday", "analyst", 400},
		{"bad category", "/tiles/grids/2/1/1.mvt?category=nope", "analyst", 400},
		{"bad shape", "/tiles/heat/2/1/1.mvt?shape=hex", "analyst", 400},
		{"cell too small", "/tiles/hotspots/2/1/1.mvt?cell_m=1", "analyst", 400},
		{"viewer asks for incidents", "/tiles/incidents/2/1/1.mvt", "viewer", 403},
		{"no key", "/tiles/heat/2/1/1.mvt", "", 401},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(tc.path, tc.key)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			r.problem(t)
		})
	}
}

// TestTileCacheInvalidation checks that an ingested incident drops the
// tiles it touches and no others.
func TestTileCacheInvalidation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cd := f.city
	rec := cd.recs[5]
	p := orb.Point{rec.WGSLon, rec.WGSLat}
	near := tileAt(p, 16)
	// A tile of the city far from p: the corner of the city's box farthest
	// from it.
	b := cityBoundOf(cd)
	var far tiles.TileID
	best := -1.0
	for _, c := range []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}} {
		if d := math.Hypot(c[0]-p[0], c[1]-p[1]); d > best {
			best, far = d, tileAt(orb.Point{c[0] + (p[0]-c[0])*1e-3, c[1] + (p[1]-c[1])*1e-3}, 16)
		}
	}
	if math.Abs(float64(near.X)-float64(far.X)) < 3 && math.Abs(float64(near.Y)-float64(far.Y)) < 3 {
		t.Fatalf("test tiles too close: %v %v", near, far)
	}
	nearHeat := decodeTile(t, f.mustGet(tilePath("heat", near, ""), "analyst", http.StatusOK).body)
	f.get(tilePath("heat", far, ""), "analyst")
	f.mustGet(tilePath("incidents", near, ""), "analyst", http.StatusOK)
	before := f.srv.tiles.cache.Stats()

	body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102"}`, p[0], p[1])
	if r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body)); r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	mid := f.srv.tiles.cache.Stats()
	if mid.Invalidated-before.Invalidated != 2 {
		t.Errorf("one incident dropped %d cached tiles, want 2 (its heat and incidents tiles)", mid.Invalidated-before.Invalidated)
	}
	f.get(tilePath("heat", far, ""), "analyst")
	after := f.srv.tiles.cache.Stats()
	if after.Hits != mid.Hits+1 {
		t.Errorf("the far tile was not served from the cache")
	}
	got := decodeTile(t, f.mustGet(tilePath("heat", near, ""), "analyst", http.StatusOK).body)
	if sumProp(got, "heat", "count") != sumProp(nearHeat, "heat", "count")+1 {
		t.Errorf("near heat tile holds %d, want %d", sumProp(got, "heat", "count"), sumProp(nearHeat, "heat", "count")+1)
	}

	// A status change drops the incidents tile around it (its status shows).
	var page IncidentCollection
	f.mustGet("/api/v1/incidents?limit=1&from=2026-11-20T01:30:00Z&to=2026-11-20T01:30:01Z", "analyst", http.StatusOK).json(t, &page)
	if len(page.Features) != 1 {
		t.Fatalf("new incident not listed: %d", len(page.Features))
	}
	f.mustGet(tilePath("incidents", near, ""), "analyst", http.StatusOK)
	s0 := f.srv.tiles.cache.Stats()
	id := page.Features[0].ID
	if r := f.do(http.MethodPatch, "/api/v1/incidents/"+strconv.FormatInt(id, 10), "analyst", "application/json", []byte(`{"status":"filed"}`)); r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	if d := f.srv.tiles.cache.Stats().Invalidated - s0.Invalidated; d != 1 {
		t.Errorf("status change dropped %d tiles, want 1", d)
	}
	ls := decodeTile(t, f.mustGet(tilePath("incidents", near, ""), "analyst", http.StatusOK).body)
	found := false
	for _, l := range ls {
		for _, ft := range l.Features {
			if v, _ := ft.Properties["id"].(float64); int64(v) == id {
				found = ft.Properties["status"] == "filed"
			}
		}
	}
	if !found {
		t.Error("the incidents tile does not show the new status")
	}
}

func TestTilesUncached(t *testing.T) {
	f := newFixture(t, fixtureOptions{cacheBytes: -1})
	ct := cityTile(t, f.city)
	for _, layer := range []string{"grids", "heat", "incidents"} {
		r := f.mustGet(tilePath(layer, ct, ""), "admin", http.StatusOK)
		if len(decodeTile(t, r.body)) != 1 {
			t.Errorf("%s: want one layer", layer)
		}
	}
}

func TestTileJSONAndStyle(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var doc struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		Bounds       [4]float64 `json:"bounds"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	f.mustGet("/tiles/heat.json?from=2026-10-01&category=E0102&junk=1", "viewer", http.StatusOK).json(t, &doc)
	wantURL := f.http.URL + "/tiles/heat/{z}/{x}/{y}.mvt?category=E0102&from=2026-10-01"
	if doc.TileJSON != "3.0.0" || len(doc.Tiles) != 1 || doc.Tiles[0] != wantURL {
		t.Errorf("tilejson %q tiles %v, want %s", doc.TileJSON, doc.Tiles, wantURL)
	}
	cb := cityBoundOf(f.city)
	if doc.Bounds != [4]float64{cb.Min[0], cb.Min[1], cb.Max[0], cb.Max[1]} {
		t.Errorf("bounds %v, city %v", doc.Bounds, cb)
	}
	if len(doc.VectorLayers) != 1 || doc.VectorLayers[0].ID != "heat" || doc.VectorLayers[0].Fields["density"] == "" {
		t.Errorf("vector_layers %+v", doc.VectorLayers)
	}
	f.mustGet("/tiles/incidents.json", "viewer", http.StatusForbidden)
	f.mustGet("/tiles/roads.json", "viewer", http.StatusNotFound)

	for _, key := range []string{"viewer", "analyst"} {
		var st struct {
			Version int                       `json:"version"`
			Sources map[string]map[string]any `json:"sources"`
			Layers  []map[string]any          `json:"layers"`
			Glyphs  *string                   `json:"glyphs"`
			Sprite  *string                   `json:"sprite"`
		}
		r := f.mustGet("/styles/dashboard.json?from=2026-10-01", key, http.StatusOK)
		r.json(t, &st)
		if st.Version != 8 || st.Glyphs != nil || st.Sprite != nil {
			t.Errorf("%s: version %d, glyphs %v, sprite %v", key, st.Version, st.Glyphs, st.Sprite)
		}
		if strings.Contains(string(r.body), `"symbol"`) {
			t.Errorf("%s: a symbol layer needs glyphs", key)
		}
		for name, src := range st.Sources {
			u, _ := src["url"].(string)
			if !strings.HasPrefix(u, f.http.URL+"/tiles/"+name+".json") || !strings.Contains(u, "from=2026-10-01") {
				t.Errorf("%s: source %s url %q", key, name, u)
			}
		}
		_, hasIncidents := st.Sources["incidents"]
		if hasIncidents != (key != "viewer") {
			t.Errorf("%s: incidents source present %v", key, hasIncidents)
		}
		for _, l := range st.Layers {
			if s, ok := l["source"].(string); ok {
				if _, ok := st.Sources[s]; !ok {
					t.Errorf("%s: layer %v uses missing source %s", key, l["id"], s)
				}
			}
		}
	}
}

// TestTilesConsistentUnderConcurrentIngest fetches tiles while incidents
// arrive and change status; afterwards every cached tile must equal a
// fresh render: no invalidation was lost to a race.
func TestTilesConsistentUnderConcurrentIngest(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	fresh := httptest.NewServer(New(Options{Backend: f.b, Logger: slog.New(slog.DiscardHandler), TileCacheBytes: -1, Open: true}))
	defer fresh.Close()
	cd := f.city
	var paths []string
	for i := 0; i < 8; i++ {
		r := cd.recs[i*97]
		p := orb.Point{r.WGSLon, r.WGSLat}
		for _, layer := range []string{"heat", "incidents", "grids"} {
			for _, z := range []int{13, 15} {
				paths = append(paths, tilePath(layer, tileAt(p, z), ""))
			}
		}
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for w := 0; w < 2; w++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f.get(paths[i%len(paths)], "analyst")
			}
		}()
	}
	var writers sync.WaitGroup
	for w := 0; w < 2; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 15; i++ {
				r := cd.recs[(i*8+w*4)*97%len(cd.recs)]
				body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102"}`, r.WGSLon, r.WGSLat)
				res := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body))
				var ir IngestResult
				res.json(t, &ir)
				f.do(http.MethodPatch, "/api/v1/incidents/"+strconv.FormatInt(ir.ID, 10), "analyst", "application/json", []byte(`{"status":"filed"}`))
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	for _, p := range paths {
		got := f.get(p, "analyst")
		want := f.get(p, "analyst")
		req, _ := http.NewRequest(http.MethodGet, fresh.URL+p, nil)
		res, err := fresh.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got.body) != string(body) || string(want.body) != string(body) {
			t.Errorf("%s: the cached tile differs from a fresh render", p)
		}
	}
}
