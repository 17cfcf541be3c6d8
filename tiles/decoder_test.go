package tiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
)

// The tiles are read back by published decoders: @mapbox/vector-tile (the
// reader behind Mapbox GL and MapLibre) through testdata/decoder, and
// GDAL's MVT driver through ogrinfo and ogr2ogr. A missing tool fails its
// test (`make test` installs them): a green run always includes them.

// outsideTile is one tile written for the outside decoders.
type outsideTile struct {
	name string
	id   TileID
	data []byte
	path string
}

// renderOutsideTiles renders the tiles both decoders read into a fresh
// temporary directory, with the incidents they were drawn from.
func renderOutsideTiles(t *testing.T) ([]outsideTile, []IndexedPoint) {
	t.Helper()
	dir := t.TempDir()
	gl := mustGridLayer(t, testCity(), GridLayerOptions{})
	pts := testPoints(4000, 21)
	ix := mustIndex(t, pts)
	attrs := testAttrs(pts)
	hot := NewHotspotLayer(testHotCells())
	counts := RollUpCounts(map[string]int{"110101001001001": 4, "110101002001002": 9})
	specs := []struct {
		name   string
		id     TileID
		render func(TileID) ([]byte, error)
	}{
		{"grids", cityTile, func(id TileID) ([]byte, error) { return gl.Render(id, counts, allLevels...) }},
		{"incidents-clusters", cityTile, func(id TileID) ([]byte, error) {
			return ix.RenderIncidents(id, PointFilter{}, attrs, IncidentOptions{})
		}},
		{"incidents-singles", outsideZ15, func(id TileID) ([]byte, error) {
			return ix.RenderIncidents(id, PointFilter{}, attrs, IncidentOptions{})
		}},
		{"heat", cityTile, func(id TileID) ([]byte, error) { return ix.RenderHeat(id, PointFilter{}, HeatOptions{}) }},
		{"hotspots", cityTile, func(id TileID) ([]byte, error) { return hot.Render(id, HotspotOptions{}) }},
		{"miswound", cityTile, func(TileID) ([]byte, error) { return miswoundTile(), nil }},
	}
	var out []outsideTile
	for _, s := range specs {
		b, err := s.render(s.id)
		if err != nil {
			t.Fatalf("render %s: %v", s.name, err)
		}
		p := filepath.Join(dir, s.name+".mvt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, outsideTile{name: s.name, id: s.id, data: b, path: p})
	}
	return out, pts
}

// outsideZ15 is a z15 tile in the middle of the test city.
var outsideZ15 = TileID{Z: 15, X: 26988, Y: 12429}

// miswoundTile is a negative control: a square wound the RFC 7946 way in
// tile space (negative area) followed by a positive ring, the mistake a
// strict MVT 2.1 reader must not take as an exterior.
func miswoundTile() []byte {
	lw := newLayerWriter("miswound")
	lw.geom.ring([]ipoint{{100, 100}, {100, 1000}, {1000, 1000}, {1000, 100}})
	lw.geom.ring([]ipoint{{2000, 2000}, {3000, 2000}, {3000, 3000}, {2000, 3000}})
	lw.prop("code", stringValue("bad"))
	lw.commit(0, false, geomPolygon)
	b, _ := encodeTile(lw)
	return b
}

// exteriorsFirst checks one polygon's ring areas: exterior positive, holes
// negative.
func exteriorsFirst(areas []float64) error {
	for i, a := range areas {
		if (i == 0) != (a > 0) || a == 0 {
			return fmt.Errorf("ring %d of %v has area %v", i, areas, a)
		}
	}
	return nil
}

type jsFeature struct {
	ID         *uint64          `json:"id"`
	Type       string           `json:"type"`
	Properties map[string]any   `json:"properties"`
	Polygons   [][]float64      `json:"polygons"`
	LonLat     *json.RawMessage `json:"lonlat"`
}

type jsTile struct {
	Tile   string `json:"tile"`
	Layers []struct {
		Name     string      `json:"name"`
		Version  int         `json:"version"`
		Extent   int         `json:"extent"`
		Features []jsFeature `json:"features"`
	} `json:"layers"`
}

func TestOutsideDecoderMapboxVectorTile(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (make test installs it): %v", err)
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "decoder"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@mapbox", "vector-tile")); err != nil {
		cmd := exec.Command("npm", "ci", "--prefix", dir, "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci --prefix %s: %v\n%s", dir, err, out)
		}
	}
	tiles, outsidePts := renderOutsideTiles(t)
	args := []string{filepath.Join(dir, "decode.mjs")}
	for _, tl := range tiles {
		args = append(args, fmt.Sprintf("%d/%d/%d=%s", tl.id.Z, tl.id.X, tl.id.Y, tl.path))
	}
	out, err := exec.Command(node, args...).Output()
	if err != nil {
		t.Fatalf("node decode.mjs: %v", err)
	}
	var decoded []jsTile
	if err := json.Unmarshal(out, &decoded); err != nil {
		t.Fatalf("decoder output: %v\n%s", err, out)
	}
	byName := map[string]jsTile{}
	for i, tl := range tiles {
		byName[tl.name] = decoded[i]
	}
	layer := func(name string) []jsFeature {
		tl := byName[name]
		if len(tl.Layers) != 1 || tl.Layers[0].Extent != Extent || tl.Layers[0].Version != 2 {
			t.Fatalf("%s: layers %+v", name, tl.Layers)
		}
		return tl.Layers[0].Features
	}

	t.Run("grids", func(t *testing.T) {
		feats := layer("grids")
		if byName["grids"].Layers[0].Name != LayerGrids || len(feats) != 11 {
			t.Fatalf("%d features in %q, want 11 in grids", len(feats), byName["grids"].Layers[0].Name)
		}
		wantCount := map[string]float64{"110101": 13, "110101001": 4, "110101001001001": 4, "110101002001002": 9, "110101002001001": 0}
		for _, f := range feats {
			code, _ := f.Properties["code"].(string)
			if f.Type != "Polygon" || f.Properties["name"] == nil || f.Properties["level"] == nil {
				t.Errorf("%s: %+v", code, f)
			}
			if want, ok := wantCount[code]; ok && f.Properties["count"] != want {
				t.Errorf("%s: count %v, want %v", code, f.Properties["count"], want)
			}
			if f.ID == nil || strconv.FormatUint(*f.ID, 10) != code {
				t.Errorf("%s: id %v", code, f.ID)
			}
			wantRings := 1
			if code == "110101001001001" {
				wantRings = 2
			}
			if len(f.Polygons) != 1 || len(f.Polygons[0]) != wantRings {
				t.Errorf("%s: classifyRings gave %v, want one polygon of %d rings", code, f.Polygons, wantRings)
				continue
			}
			if err := exteriorsFirst(f.Polygons[0]); err != nil {
				t.Errorf("%s: %v", code, err)
			}
		}
	})
	t.Run("incidents", func(t *testing.T) {
		var total float64
		for _, f := range layer("incidents-clusters") {
			total += f.Properties["count"].(float64)
		}
		if int(total) != len(outsidePts) {
			t.Errorf("clusters hold %v incidents, want %d", total, len(outsidePts))
		}
		singles := layer("incidents-singles")
		z15 := outsideZ15
		want := 0
		for _, p := range outsidePts {
			if c := cellOfPoint(p, 15); c.X == z15.X && c.Y == z15.Y {
				want++
			}
		}
		in := 0
		for _, f := range singles {
			var ll [2]float64
			if err := json.Unmarshal(*f.LonLat, &ll); err != nil {
				t.Fatal(err)
			}
			row := int(f.Properties["id"].(float64)) - 1000
			p := outsidePts[row]
			if math.Abs(ll[0]-p.Lon) > 1e-5 || math.Abs(ll[1]-p.Lat) > 1e-5 {
				t.Errorf("incident %d decoded at %v, indexed at %v,%v", row, ll, p.Lon, p.Lat)
			}
			if f.Properties["category"] != p.Category || f.Properties["status"] == nil || f.Properties["grid"] == nil {
				t.Errorf("incident %d: %v", row, f.Properties)
			}
			if c := cellOfPoint(p, 15); c.X == z15.X && c.Y == z15.Y {
				in++
			}
		}
		if in != want || want == 0 {
			t.Errorf("%d incidents inside the z15 tile, want %d", in, want)
		}
	})
	t.Run("heat and hotspots", func(t *testing.T) {
		var total float64
		for _, f := range layer("heat") {
			if len(f.Polygons) != 1 || len(f.Polygons[0]) != 1 || exteriorsFirst(f.Polygons[0]) != nil {
				t.Fatalf("heat cell rings %v", f.Polygons)
			}
			total += f.Properties["count"].(float64)
		}
		if int(total) != len(outsidePts) {
			t.Errorf("heat holds %v incidents, want %d", total, len(outsidePts))
		}
		hot := layer("hotspots")
		if len(hot) != len(testHotCells()) {
			t.Errorf("%d hotspot cells, want %d", len(hot), len(testHotCells()))
		}
		for _, f := range hot {
			if len(f.Polygons) != 1 || exteriorsFirst(f.Polygons[0]) != nil {
				t.Fatalf("hotspot rings %v", f.Polygons)
			}
			for _, k := range []string{"count", "z", "p", "bin"} {
				if _, ok := f.Properties[k]; !ok {
					t.Fatalf("hotspot without %s: %v", k, f.Properties)
				}
			}
		}
	})
	t.Run("negative control", func(t *testing.T) {
		f := layer("miswound")[0]
		bad := false
		for _, p := range f.Polygons {
			bad = bad || exteriorsFirst(p) != nil
		}
		if !bad {
			t.Errorf("the mis-wound control passed the winding check: %v", f.Polygons)
		}
	})
}

// ogrSummary runs ogrinfo -so on a tile and returns feature counts and
// field names per layer.
func ogrSummary(t *testing.T, tl outsideTile) (map[string]int, map[string][]string) {
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", "-oo", fmt.Sprint("Z=", tl.id.Z),
		"-oo", fmt.Sprint("X=", tl.id.X), "-oo", fmt.Sprint("Y=", tl.id.Y), tl.path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", tl.name, err, out)
	}
	counts := map[string]int{}
	fields := map[string][]string{} // without GDAL's own mvt_id
	layerRe := regexp.MustCompile(`^Layer name: (\S+)`)
	countRe := regexp.MustCompile(`^Feature Count: (\d+)`)
	fieldRe := regexp.MustCompile(`^(\w+): (String|Integer|Integer64|Real)`)
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := layerRe.FindStringSubmatch(line); m != nil {
			cur = m[1]
		} else if m := countRe.FindStringSubmatch(line); m != nil {
			counts[cur], _ = strconv.Atoi(m[1])
		} else if m := fieldRe.FindStringSubmatch(line); m != nil && cur != "" && m[1] != "mvt_id" {
			fields[cur] = append(fields[cur], m[1])
		}
	}
	return counts, fields
}

type ogrCollection struct {
	Features []struct {
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
}

func TestOutsideDecoderGDAL(t *testing.T) {
	for _, tool := range []string{"ogrinfo", "ogr2ogr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (make test installs gdal-bin): %v", tool, err)
		}
	}
	tiles, _ := renderOutsideTiles(t)
	byName := map[string]outsideTile{}
	for _, tl := range tiles {
		byName[tl.name] = tl
	}

	t.Run("summaries", func(t *testing.T) {
		tests := []struct {
			tile, layer string
			count       int
			fields      []string
		}{
			{"grids", LayerGrids, 11, []string{"code", "count", "level", "name"}},
			{"heat", LayerHeat, -1, []string{"count", "density"}},
			{"hotspots", LayerHotspots, len(testHotCells()), []string{"bin", "count", "p", "z"}},
			{"incidents-singles", LayerIncidents, -1, []string{"category", "grid", "id", "status"}},
		}
		for _, tc := range tests {
			counts, fields := ogrSummary(t, byName[tc.tile])
			if _, ok := counts[tc.layer]; !ok || len(counts) != 1 {
				t.Errorf("%s: layers %v, want only %s", tc.tile, counts, tc.layer)
				continue
			}
			if tc.count >= 0 && counts[tc.layer] != tc.count {
				t.Errorf("%s: %d features, want %d", tc.tile, counts[tc.layer], tc.count)
			}
			if counts[tc.layer] == 0 {
				t.Errorf("%s: no features", tc.tile)
			}
			got := strings.Join(sortedCopy(fields[tc.layer]), ",")
			if want := strings.Join(tc.fields, ","); got != want {
				t.Errorf("%s: fields %s, want %s", tc.tile, got, want)
			}
		}
	})

	t.Run("grid polygons and areas", func(t *testing.T) {
		tl := byName["grids"]
		out, err := exec.Command("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-oo", fmt.Sprint("Z=", tl.id.Z),
			"-oo", fmt.Sprint("X=", tl.id.X), "-oo", fmt.Sprint("Y=", tl.id.Y), tl.path, LayerGrids).Output()
		if err != nil {
			t.Fatalf("ogr2ogr: %v", err)
		}
		var fc ogrCollection
		if err := json.Unmarshal(out, &fc); err != nil {
			t.Fatalf("ogr2ogr output: %v", err)
		}
		want := map[string]*grids.Grid{}
		for _, g := range testCity() {
			want[g.Code] = g
		}
		unit := (tl.id.MercatorBound().Max[0] - tl.id.MercatorBound().Min[0]) / Extent
		if len(fc.Features) != len(want) {
			t.Fatalf("%d features, want %d", len(fc.Features), len(want))
		}
		for _, f := range fc.Features {
			code := f.Properties["code"].(string)
			g := want[code]
			// GDAL types MVT polygon layers as MultiPolygon; each grid
			// must come back as one polygon with its holes.
			var polys [][][][2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil || f.Geometry.Type != "MultiPolygon" {
				t.Errorf("%s: GDAL read a %s (%v)", code, f.Geometry.Type, err)
				continue
			}
			if len(polys) != 1 || len(polys[0]) != len(g.Geometry[0]) {
				t.Errorf("%s: %d polygons, the first of %d rings; want 1 of %d", code, len(polys), len(polys[0]), len(g.Geometry[0]))
				continue
			}
			rings := polys[0]
			// GDAL's area of what it read, exterior minus holes, against the
			// input projected by orb/project.
			got := 0.0
			for i, r := range rings {
				ring := make(orb.Ring, len(r))
				for k, p := range r {
					ring[k] = orb.Point(p)
				}
				a := math.Abs(planar.Area(ring))
				if i > 0 {
					a = -a
				}
				got += a
			}
			merc := project.Polygon(orb.Clone(g.Geometry[0]).(orb.Polygon), project.WGS84.ToMercator)
			exp := planar.Area(merc)
			perim := planar.Length(merc)
			if math.Abs(got-exp) > perim*unit {
				t.Errorf("%s: GDAL area %.0f m², want %.0f m² (±%.0f)", code, got, exp, perim*unit)
			}
		}
	})

	t.Run("negative control", func(t *testing.T) {
		tl := byName["miswound"]
		out, err := exec.Command("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-oo", fmt.Sprint("Z=", tl.id.Z),
			"-oo", fmt.Sprint("X=", tl.id.X), "-oo", fmt.Sprint("Y=", tl.id.Y), tl.path).Output()
		if err != nil {
			t.Fatalf("ogr2ogr: %v", err)
		}
		var fc ogrCollection
		if err := json.Unmarshal(out, &fc); err != nil {
			t.Fatalf("ogr2ogr output: %v", err)
		}
		// Two squares, the first wound backwards: GDAL takes the first
		// ring's orientation for an exterior's and so reads the second as
		// a hole. That is the misreading the grid check above would catch
		// (a hole where a polygon should be, or the reverse).
		if len(fc.Features) != 1 || fc.Features[0].Geometry.Type != "MultiPolygon" {
			t.Fatalf("control read as %s", out)
		}
		var polys [][][][2]float64
		if err := json.Unmarshal(fc.Features[0].Geometry.Coordinates, &polys); err != nil {
			t.Fatal(err)
		}
		if len(polys) != 1 || len(polys[0]) != 2 {
			t.Errorf("GDAL read the mis-wound control as %d polygons; the check relies on it reading one with a hole", len(polys))
		}
	})
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
