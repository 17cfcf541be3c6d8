package tiles

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func mustIndex(t testing.TB, pts []IndexedPoint) *PointIndex {
	t.Helper()
	ix := NewPointIndex()
	if err := ix.Add(pts...); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return ix
}

var testBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// filters used across the point tests, with an oracle for each.
var pointFilters = []struct {
	name string
	f    PointFilter
}{
	{name: "all"},
	{name: "from", f: PointFilter{From: testBase.Add(30 * 24 * time.Hour)}},
	{name: "from to", f: PointFilter{From: testBase.Add(10 * 24 * time.Hour), To: testBase.Add(40 * 24 * time.Hour)}},
	{name: "category", f: PointFilter{Category: func(c string) bool { return strings.HasPrefix(c, "01") }}},
	{name: "both", f: PointFilter{To: testBase.Add(50 * 24 * time.Hour), Category: func(c string) bool { return c == "0201" }}},
	{name: "empty window", f: PointFilter{From: testBase.Add(time.Hour), To: testBase.Add(time.Hour)}},
	{name: "no category", f: PointFilter{Category: func(string) bool { return false }}},
}

func oracleMatch(f PointFilter, p IndexedPoint) bool {
	if !f.From.IsZero() && p.ReportedAt.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !p.ReportedAt.Before(f.To) {
		return false
	}
	return f.Category == nil || f.Category(p.Category)
}

// cellOfPoint is the quadtree cell of a point at zoom z, by orb/maptile.
func cellOfPoint(p IndexedPoint, z uint32) maptile.Tile {
	return maptile.At(orb.Point{p.Lon, p.Lat}, maptile.Zoom(z))
}

// Heat counts equal a brute-force count of the points in each cell, the
// cells found by orb/maptile at zoom+4 (16-px cells).
func TestHeatCountsMatchBruteForce(t *testing.T) {
	pts := testPoints(20000, 1)
	ix := mustIndex(t, pts)
	for _, z := range []uint32{8, 10, 12, 14, 16} {
		cells := make([]maptile.Tile, len(pts))
		for i, p := range pts {
			cells[i] = cellOfPoint(p, z+4)
		}
		for _, fc := range pointFilters {
			all := map[maptile.Tile]int64{}
			for i, p := range pts {
				if oracleMatch(fc.f, p) {
					all[cells[i]]++
				}
			}
			for _, id := range tilesOver(cityBound, int(z)) {
				if z >= 14 && (id.X+id.Y)%3 != 0 {
					continue // a sample of the deep tiles is enough
				}
				want := map[maptile.Tile]int64{}
				for c, n := range all {
					if c.X>>4 == id.X && c.Y>>4 == id.Y {
						want[c] = n
					}
				}
				b, err := ix.RenderHeat(id, fc.f, HeatOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := map[maptile.Tile]int64{}
				if lay := layerByName(decodeTile(t, b), LayerHeat); lay != nil {
					for _, f := range lay.features {
						polys, err := f.polygons()
						if err != nil || len(polys) != 1 {
							t.Fatalf("%v: heat cell %v: %v", id, f.rings, err)
						}
						r := f.rings[0]
						if len(r) != 4 || f.area2() != 2*256*256 {
							t.Fatalf("%v: heat cell is not a 16-px square: %v", id, r)
						}
						minX, minY := min(r[0][0], r[2][0]), min(r[0][1], r[2][1])
						c := maptile.Tile{X: id.X<<4 + uint32(minX/256), Y: id.Y<<4 + uint32(minY/256), Z: maptile.Zoom(z + 4)}
						got[c] = f.props["count"].(int64)
						if d, ok := f.props["density"].(float64); !ok || d <= 0 {
							t.Fatalf("density %v", f.props["density"])
						}
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%v %s: %d cells, want %d", id, fc.name, len(got), len(want))
				}
				for c, n := range want {
					if got[c] != n {
						t.Fatalf("%v %s: cell %v count %d, want %d", id, fc.name, c, got[c], n)
					}
				}
			}
		}
	}
}

func TestHeatMinCountHidesSmallCells(t *testing.T) {
	ix := mustIndex(t, testPoints(3000, 2))
	for _, k := range []int{0, 1, 3, 10} {
		b, err := ix.RenderHeat(cityTile, PointFilter{}, HeatOptions{MinCount: k, CellPx: 4})
		if err != nil {
			t.Fatal(err)
		}
		lay := layerByName(decodeTile(t, b), LayerHeat)
		small := false
		for _, f := range lay.features {
			if f.props["count"].(int64) < int64(max(k, 1)) {
				t.Fatalf("k=%d: cell with count %v", k, f.props["count"])
			}
			small = small || f.props["count"].(int64) < 3
		}
		if k <= 1 && !small {
			t.Fatal("test data should have cells under 3 for k to hide")
		}
	}
}

func TestHeatPointsIncludeBufferCells(t *testing.T) {
	ix := mustIndex(t, testPoints(20000, 3))
	id := tilesOver(cityBound, 13)[1]
	b, err := ix.RenderHeat(id, PointFilter{}, HeatOptions{Points: true})
	if err != nil {
		t.Fatal(err)
	}
	inside, outside := 0, 0
	for _, f := range layerByName(decodeTile(t, b), LayerHeat).features {
		if f.typ != geomPoint || len(f.points) != 1 {
			t.Fatalf("heat point feature: type %d, %d points", f.typ, len(f.points))
		}
		p := f.points[0]
		if p[0] < -1024 || p[0] > Extent+1024 || p[1] < -1024 || p[1] > Extent+1024 {
			t.Fatalf("point %v past the 64 px buffer", p)
		}
		if p[0] >= 0 && p[0] < Extent && p[1] >= 0 && p[1] < Extent {
			inside++
		} else {
			outside++
		}
	}
	if inside == 0 || outside == 0 {
		t.Errorf("%d cells inside, %d in the buffer; want both", inside, outside)
	}
}

func TestHeatOptionsValidated(t *testing.T) {
	ix := mustIndex(t, testPoints(10, 4))
	for _, px := range []int{3, -16, 512} {
		if _, err := ix.RenderHeat(cityTile, PointFilter{}, HeatOptions{CellPx: px}); err == nil {
			t.Errorf("CellPx %d accepted", px)
		}
	}
	if _, err := ix.RenderHeat(TileID{Z: 30}, PointFilter{}, HeatOptions{}); !errors.Is(err, ErrInvalidTile) {
		t.Errorf("bad tile: %v", err)
	}
}

// Cluster counts of the cells inside a tile add up to the points in it;
// single points carry the attributes of their row.
func TestIncidentClustersAndSingles(t *testing.T) {
	pts := testPoints(20000, 5)
	attrs := testAttrs(pts)
	ix := mustIndex(t, pts)
	for _, z := range []uint32{9, 11, 13, 14, 16} {
		byTile := map[maptile.Tile][]IndexedPoint{}
		for _, p := range pts {
			c := cellOfPoint(p, z)
			byTile[c] = append(byTile[c], p)
		}
		for _, id := range tilesOver(cityBound, int(z)) {
			if z == 16 && (id.X+id.Y)%4 != 0 {
				continue
			}
			for _, fc := range pointFilters {
				want := map[uint32]bool{} // rows in the tile
				for _, p := range byTile[maptile.Tile{X: id.X, Y: id.Y, Z: maptile.Zoom(z)}] {
					if oracleMatch(fc.f, p) {
						want[p.Row] = true
					}
				}
				b, err := ix.RenderIncidents(id, fc.f, attrs, IncidentOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var got int64
				var lay *decLayer
				if ls := decodeTile(t, b); len(ls) > 0 {
					lay = &ls[0]
				}
				var features []decFeature
				if lay != nil {
					features = lay.features
				}
				for _, f := range features {
					p := f.points[0]
					in := p[0] >= 0 && p[0] < Extent && p[1] >= 0 && p[1] < Extent
					if z < 14 {
						if in {
							got += f.props["count"].(int64)
						}
						continue
					}
					row := uint32(f.id - 1000)
					if !in {
						continue
					}
					got++
					a := attrs[row]
					if !want[row] || f.props["id"] != a.ID || f.props["category"] != a.Category ||
						f.props["status"] != a.Status || f.props["grid"] != a.Grid {
						t.Fatalf("%v: feature %v does not match row %d %+v", id, f.props, row, a)
					}
				}
				if got != int64(len(want)) {
					t.Fatalf("z%d %v %s: %d incidents in the tile, want %d", z, id, fc.name, got, len(want))
				}
			}
		}
	}
}

func TestIncidentFeatureCapIsDeterministicAndSpread(t *testing.T) {
	pts := testPoints(5000, 6)
	attrs := testAttrs(pts)
	ix := mustIndex(t, pts)
	o := IncidentOptions{MaxFeatures: 100}
	a, err := ix.RenderIncidents(cityTile, PointFilter{}, attrs, IncidentOptions{MaxFeatures: 100, ClusterBelowZoom: -1})
	if err != nil {
		t.Fatal(err)
	}
	o.ClusterBelowZoom = -1
	b, _ := ix.RenderIncidents(cityTile, PointFilter{}, attrs, o)
	if !bytes.Equal(a, b) {
		t.Fatal("capped tile differs between two renders")
	}
	feats := layerByName(decodeTile(t, a), LayerIncidents).features
	if len(feats) != 100 {
		t.Fatalf("%d features, want the cap of 100", len(feats))
	}
	// A spread sample reaches every quarter of the city, which a first-N
	// cut in key order would not.
	quarters := map[[2]bool]bool{}
	mid := orb.Point{(cityW + cityE) / 2, (cityS + cityN) / 2}
	for _, f := range feats {
		p := pts[f.id-1000]
		quarters[[2]bool{p.Lon < mid[0], p.Lat < mid[1]}] = true
	}
	if len(quarters) != 4 {
		t.Errorf("capped sample covers %d quarters of the city", len(quarters))
	}
}

func TestIncidentAttrsMissingRowsLeftOut(t *testing.T) {
	pts := testPoints(200, 7)
	attrs := testAttrs(pts)[:100]
	ix := mustIndex(t, pts)
	b, err := ix.RenderIncidents(cityTile, PointFilter{}, attrs, IncidentOptions{ClusterBelowZoom: -1})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(layerByName(decodeTile(t, b), LayerIncidents).features); n != 100 {
		t.Errorf("%d features, want the 100 rows attrs knows", n)
	}
	b, err = ix.RenderIncidents(cityTile, PointFilter{}, nil, IncidentOptions{ClusterBelowZoom: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range layerByName(decodeTile(t, b), LayerIncidents).features {
		if len(f.props) != 1 || f.props["category"] == nil {
			t.Fatalf("without attrs: properties %v, want only category", f.props)
		}
	}
}

// Tiles do not depend on how the index was filled: one batch, many small
// batches with merges, or points still in the unsorted tail.
func TestPointIndexIncrementalMatchesBulk(t *testing.T) {
	pts := testPoints(30000, 8)
	bulk := mustIndex(t, pts)
	inc := NewPointIndex()
	inc.tailMax = 1000
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(pts); {
		n := min(len(pts)-i, 1+rng.IntN(700))
		if err := inc.Add(pts[i : i+n]...); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if inc.snap.Load().tail.len() == 0 || inc.snap.Load().main.len() == 0 {
		t.Fatal("want points both in the sorted run and the tail")
	}
	if inc.Len() != len(pts) || bulk.Len() != len(pts) {
		t.Fatalf("Len %d and %d, want %d", inc.Len(), bulk.Len(), len(pts))
	}
	attrs := testAttrs(pts)
	for _, z := range []int{10, 12, 15} {
		ids := tilesOver(cityBound, z)
		for _, id := range ids[:min(4, len(ids))] {
			for _, fc := range pointFilters[:4] {
				for _, render := range []func(ix *PointIndex) ([]byte, error){
					func(ix *PointIndex) ([]byte, error) { return ix.RenderHeat(id, fc.f, HeatOptions{}) },
					func(ix *PointIndex) ([]byte, error) { return ix.RenderIncidents(id, fc.f, attrs, IncidentOptions{}) },
				} {
					a, err := render(bulk)
					if err != nil {
						t.Fatal(err)
					}
					b, err := render(inc)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(a, b) {
						t.Fatalf("%v %s: incremental index renders differently", id, fc.name)
					}
				}
			}
		}
	}
}

func TestPointIndexRejectsBadPoints(t *testing.T) {
	tests := []struct {
		name string
		p    IndexedPoint
	}{
		{name: "NaN lon", p: IndexedPoint{Lon: math.NaN()}},
		{name: "infinite lat", p: IndexedPoint{Lat: math.Inf(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := NewPointIndex()
			if err := ix.Add(IndexedPoint{Lon: 116, Lat: 39}, tc.p); err == nil {
				t.Fatal("Add accepted a bad point")
			}
			if ix.Len() != 0 {
				t.Fatal("a failed batch left points behind")
			}
		})
	}
}

func TestMortonKeyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 1000; i++ {
		x, y := uint64(rng.Uint32()>>1), uint64(rng.Uint32()>>1)
		k := spread(x) | spread(y)<<1
		gx, gy := keyXY(k)
		if uint64(gx) != x || uint64(gy) != y {
			t.Fatalf("keyXY(spread(%d,%d)) = %d,%d", x, y, gx, gy)
		}
	}
}
