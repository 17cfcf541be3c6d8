package tiles

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
)

var allLevels = []grids.Level{grids.LevelDistrict, grids.LevelStreet, grids.LevelCommunity, grids.LevelGrid}

func mustGridLayer(t testing.TB, gs []*grids.Grid, o GridLayerOptions) *GridLayer {
	t.Helper()
	l, err := NewGridLayer(gs, o)
	if err != nil {
		t.Fatalf("NewGridLayer: %v", err)
	}
	return l
}

// tilesOver lists the tiles of zoom z that the lon/lat bound touches.
func tilesOver(b orb.Bound, z int) []TileID {
	zoom := maptile.Zoom(z)
	nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, zoom)
	se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, zoom)
	var out []TileID
	for y := nw.Y; y <= se.Y; y++ {
		for x := nw.X; x <= se.X; x++ {
			out = append(out, TileID{Z: uint32(z), X: x, Y: y})
		}
	}
	return out
}

var cityBound = orb.Bound{Min: orb.Point{cityW, cityS}, Max: orb.Point{cityE, cityN}}

func TestGridTilesAreWoundForMVT21(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	for z := 8; z <= 16; z++ {
		for _, id := range tilesOver(cityBound, z) {
			b, err := l.Render(id, nil, allLevels...)
			if err != nil {
				t.Fatalf("Render %v: %v", id, err)
			}
			for _, lay := range decodeTile(t, b) {
				if lay.name != LayerGrids || lay.extent != Extent || lay.version != 2 {
					t.Fatalf("%v: layer %q extent %d version %d", id, lay.name, lay.extent, lay.version)
				}
				for _, f := range lay.features {
					if f.typ != geomPolygon {
						t.Fatalf("%v %v: geometry type %d", id, f.props["code"], f.typ)
					}
					if _, err := f.polygons(); err != nil {
						t.Fatalf("%v %v: %v", id, f.props["code"], err)
					}
				}
			}
		}
	}
}

func TestGridHoleDecodesAsHole(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	b, err := l.Render(cityTile, nil, grids.LevelGrid)
	if err != nil {
		t.Fatal(err)
	}
	lay := layerByName(decodeTile(t, b), LayerGrids)
	if lay == nil {
		t.Fatal("no grids layer")
	}
	for _, f := range lay.features {
		polys, err := f.polygons()
		if err != nil {
			t.Fatal(err)
		}
		wantRings := 1
		if f.props["code"] == "110101001001001" {
			wantRings = 2
		}
		if len(polys) != 1 || len(polys[0]) != wantRings {
			t.Errorf("%v: %d polygons, first with %d rings; want 1 polygon of %d rings", f.props["code"], len(polys), len(polys[0]), wantRings)
		}
	}
}

// Every level tiles the same district, so in any tile the areas of each
// level sum to the district's, to the unit, if and only if shared edges
// were simplified and rounded the same on both sides (no slivers, no
// overlaps).
func TestGridSharedEdgesLeaveNoSlivers(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	zigzagSeen := map[bool]bool{}
	for z := 10; z <= 16; z++ {
		for _, id := range tilesOver(cityBound, z) {
			b, err := l.Render(id, nil, allLevels...)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, b), LayerGrids)
			if lay == nil {
				continue
			}
			sums := map[string]int64{}
			for _, f := range lay.features {
				sums[f.props["level"].(string)] += f.area2()
				if f.props["code"] == "110101002001001" {
					zigzagSeen[len(f.rings[0]) > 8] = true
				}
			}
			for _, lv := range []string{"street", "community", "grid"} {
				if sums[lv] != sums["district"] {
					t.Errorf("%v: %s areas sum to %d, district %d", id, lv, sums[lv], sums["district"])
				}
			}
		}
	}
	if !zigzagSeen[false] || !zigzagSeen[true] {
		t.Errorf("the zigzag edge should be simplified away at low zoom and kept at high zoom: %v", zigzagSeen)
	}
}

// The same identity on an irregular city whose shared edges wiggle through
// many vertices, cut by several districts.
func TestGridIrregularSharedEdgesLeaveNoSlivers(t *testing.T) {
	gs := wigglyCity(1, orb.Point{116.3, 39.7}, 0.004, 40, 30, 4, 12, 24)
	l := mustGridLayer(t, gs, GridLayerOptions{})
	b := orb.Bound{Min: orb.Point{116.3, 39.7}, Max: orb.Point{116.3 + 40*0.004, 39.7 + 30*0.004*0.8}}
	rng := rand.New(rand.NewPCG(5, 5))
	checked := 0
	// From z11 on every cell is several pixels wide; below, cells under a
	// pixel are dropped on purpose and the sums no longer match.
	for z := 11; z <= 16; z++ {
		ids := tilesOver(b, z)
		if len(ids) > 24 {
			rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			ids = ids[:24]
		}
		for _, id := range ids {
			tb, err := l.Render(id, nil, allLevels...)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, tb), LayerGrids)
			if lay == nil {
				continue
			}
			sums := map[string]int64{}
			for _, f := range lay.features {
				if _, err := f.polygons(); err != nil {
					t.Fatalf("%v %v: %v", id, f.props["code"], err)
				}
				sums[f.props["level"].(string)] += f.area2()
			}
			for _, lv := range []string{"street", "community", "grid"} {
				if sums[lv] != sums["district"] {
					t.Errorf("%v: %s areas sum to %d, districts %d", id, lv, sums[lv], sums["district"])
				}
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("only %d tiles checked", checked)
	}
}

func TestGridLevelsByZoom(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	tests := []struct {
		name   string
		z      int
		levels []grids.Level
		want   []string
	}{
		{name: "z9 districts", z: 9, want: []string{"district"}},
		{name: "z10 streets", z: 10, want: []string{"district", "street"}},
		{name: "z12 communities", z: 12, want: []string{"community", "district", "street"}},
		{name: "z13 grids", z: 13, want: []string{"community", "district", "grid", "street"}},
		{name: "filter overrides zoom", z: 9, levels: []grids.Level{grids.LevelGrid}, want: []string{"grid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, id := range tilesOver(cityBound, tc.z) {
				b, err := l.Render(id, nil, tc.levels...)
				if err != nil {
					t.Fatal(err)
				}
				if lay := layerByName(decodeTile(t, b), LayerGrids); lay != nil {
					for _, f := range lay.features {
						seen[f.props["level"].(string)] = true
					}
				}
			}
			var got []string
			for lv := range seen {
				got = append(got, lv)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("levels %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGridPropertiesAndCounts(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	tests := []struct {
		name   string
		counts map[string]int
		want   map[string]any // code → count, nil: no count property
	}{
		{name: "no counts", counts: nil, want: map[string]any{"110101001001001": nil, "110101002001002": nil}},
		{
			name:   "counts, absent is zero",
			counts: map[string]int{"110101001001001": 7},
			want:   map[string]any{"110101001001001": int64(7), "110101002001002": int64(0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := l.Render(cityTile, tc.counts, grids.LevelGrid)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, b), LayerGrids)
			found := 0
			for _, f := range lay.features {
				want, ok := tc.want[f.props["code"].(string)]
				if !ok {
					continue
				}
				found++
				if f.props["count"] != want {
					t.Errorf("%v: count %v, want %v", f.props["code"], f.props["count"], want)
				}
				if f.props["level"] != "grid" || f.props["name"] == "" {
					t.Errorf("%v: properties %v", f.props["code"], f.props)
				}
				if !f.hasID || f.id == 0 {
					t.Errorf("%v: numeric code should be the feature id", f.props["code"])
				}
			}
			if found != len(tc.want) {
				t.Errorf("found %d of %d grids", found, len(tc.want))
			}
		})
	}
}

func TestRollUpCounts(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]int
		want map[string]int
	}{
		{name: "empty", in: map[string]int{}, want: map[string]int{}},
		{
			name: "two grids, one community",
			in:   map[string]int{"110101001001001": 2, "110101001001002": 3},
			want: map[string]int{
				"110101001001001": 2, "110101001001002": 3,
				"110101001001": 5, "110101001": 5, "110101": 5,
			},
		},
		{
			name: "two streets",
			in:   map[string]int{"110101001001001": 1, "110101002001001": 4},
			want: map[string]int{
				"110101001001001": 1, "110101002001001": 4,
				"110101001001": 1, "110101002001": 4,
				"110101001": 1, "110101002": 4, "110101": 5,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RollUpCounts(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RollUpCounts = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGridFeatureCap(t *testing.T) {
	tests := []struct {
		name  string
		cap   int
		codes []string
	}{
		{name: "coarsest first", cap: 1, codes: []string{"110101"}},
		{name: "then larger", cap: 3, codes: []string{"110101", "110101001", "110101002"}},
		{name: "no cap reached", cap: 100, codes: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustGridLayer(t, testCity(), GridLayerOptions{MaxFeatures: tc.cap})
			b, err := l.Render(cityTile, nil, allLevels...)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, b), LayerGrids)
			var got []string
			for _, f := range lay.features {
				got = append(got, f.props["code"].(string))
			}
			if tc.codes == nil {
				if len(got) != 11 {
					t.Errorf("%d features, want all 11", len(got))
				}
				return
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.codes) {
				t.Errorf("features %v, want %v", got, tc.codes)
			}
		})
	}
}

func TestGridSubPixelPolygonsDropped(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	// At zoom 5 the island (0.02° × 0.04°) is under one pixel; the square
	// around it is not.
	id := tilesOver(cityBound, 5)[0]
	b, err := l.Render(id, nil, grids.LevelGrid)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	if lay := layerByName(decodeTile(t, b), LayerGrids); lay != nil {
		for _, f := range lay.features {
			codes[f.props["code"].(string)] = true
		}
	}
	if codes["110101001001002"] || !codes["110101001001001"] {
		t.Errorf("at z5 got %v; want the island dropped and its surround kept", codes)
	}
}

func TestGridRenderLeavesInputAloneAndIgnoresInputWinding(t *testing.T) {
	city := testCity()
	snapshot := testCity()
	l := mustGridLayer(t, city, GridLayerOptions{})
	want, err := l.Render(cityTile, map[string]int{"110101": 1}, allLevels...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(city, snapshot) {
		t.Fatal("NewGridLayer or Render changed the grids given")
	}
	flipped := testCity()
	for _, g := range flipped {
		for _, p := range g.Geometry {
			for i := range p {
				p[i] = reversed(p[i])
			}
		}
	}
	got, err := mustGridLayer(t, flipped, GridLayerOptions{}).Render(cityTile, map[string]int{"110101": 1}, allLevels...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(canonicalRings(t, got), canonicalRings(t, want)) {
		t.Error("tile geometry depends on the winding of the input rings")
	}
}

// canonicalRings lists each feature's rings rotated to start at their
// least vertex, so that tiles differing only in ring start points compare
// equal; orientation is left as decoded.
func canonicalRings(t *testing.T, b []byte) map[string][][][2]int64 {
	out := map[string][][][2]int64{}
	for _, f := range layerByName(decodeTile(t, b), LayerGrids).features {
		var rings [][][2]int64
		for _, r := range f.rings {
			k := 0
			for i, p := range r {
				if p[0] < r[k][0] || p[0] == r[k][0] && p[1] < r[k][1] {
					k = i
				}
			}
			rings = append(rings, append(slices.Clone(r[k:]), r[:k]...))
		}
		out[f.props["code"].(string)] = rings
	}
	return out
}

func TestGridRenderRejectsBadTile(t *testing.T) {
	l := mustGridLayer(t, testCity(), GridLayerOptions{})
	for _, id := range []TileID{{Z: 23}, {Z: 3, X: 8}, {Z: 1, Y: 2}} {
		if _, err := l.Render(id, nil); !errors.Is(err, ErrInvalidTile) {
			t.Errorf("Render(%v) error = %v, want ErrInvalidTile", id, err)
		}
	}
}

func TestNewGridLayerRejectsBadInput(t *testing.T) {
	sq := orb.MultiPolygon{{rect(0, 0, 1, 1)}}
	tests := []struct {
		name string
		gs   []*grids.Grid
	}{
		{name: "duplicate code", gs: []*grids.Grid{
			{Code: "110101", Level: grids.LevelDistrict, Geometry: sq},
			{Code: "110101", Level: grids.LevelDistrict, Geometry: sq},
		}},
		{name: "unknown level", gs: []*grids.Grid{{Code: "1", Geometry: sq}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewGridLayer(tc.gs, GridLayerOptions{}); err == nil {
				t.Error("NewGridLayer accepted bad input")
			}
		})
	}
}

// starPolygon is a random star-shaped ring around c with a hole of the
// same shape at a third of the size, RFC 7946 wound.
func starPolygon(rng *rand.Rand, c orb.Point, r float64) orb.Polygon {
	n := 5 + rng.IntN(20)
	var outer, inner orb.Ring
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		k := r * (0.5 + rng.Float64()/2)
		outer = append(outer, orb.Point{c[0] + k*math.Cos(a), c[1] + k*math.Sin(a)*0.8})
		inner = append(inner, orb.Point{c[0] + k/6*math.Cos(a), c[1] + k/6*math.Sin(a)*0.8})
	}
	outer = append(outer, outer[0])
	inner = append(inner, inner[0])
	return orb.Polygon{outer, reversed(inner)}
}

// Property: for random star polygons with holes at random zooms, every
// drawn polygon has a positive exterior and negative holes, and a polygon
// drawn whole has the area of its Web Mercator projection (computed with
// orb/project and orb/planar) to within rounding.
func TestGridWindingProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 200; iter++ {
		z := 8 + rng.IntN(9)
		c := orb.Point{100 + rng.Float64()*20, 20 + rng.Float64()*25}
		tileDeg := 360 / math.Pow(2, float64(z))
		poly := starPolygon(rng, c, tileDeg*(0.05+rng.Float64()*0.5))
		g := &grids.Grid{Code: "110101", Name: "x", Level: grids.LevelDistrict, Geometry: orb.MultiPolygon{poly}}
		l := mustGridLayer(t, []*grids.Grid{g}, GridLayerOptions{SimplifyPx: -1})
		pb := poly.Bound()
		for _, id := range tilesOver(pb, z) {
			b, err := l.Render(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, b), LayerGrids)
			if lay == nil {
				continue
			}
			f := lay.features[0]
			polys, err := f.polygons()
			if err != nil {
				t.Fatalf("iter %d tile %v: %v", iter, id, err)
			}
			tb := id.Bound()
			if !tb.Contains(pb.Min) || !tb.Contains(pb.Max) {
				continue // clipped: area not comparable
			}
			if len(polys) != 1 || len(polys[0]) != 2 {
				t.Fatalf("iter %d: %d polygons (%v rings), want one with a hole", iter, len(polys), len(polys))
			}
			merc := project.Polygon(orb.Clone(poly).(orb.Polygon), project.WGS84.ToMercator)
			mb := id.MercatorBound()
			unit := (mb.Max[0] - mb.Min[0]) / Extent
			want := planar.Area(merc) / (unit * unit)
			got := float64(f.area2()) / 2
			var perim float64
			for _, r := range merc {
				for i := 1; i < len(r); i++ {
					perim += math.Hypot(r[i][0]-r[i-1][0], r[i][1]-r[i-1][1]) / unit
				}
			}
			if math.Abs(got-want) > perim {
				t.Fatalf("iter %d tile %v: area %.1f units², want %.1f (perimeter %.0f)", iter, id, got, want, perim)
			}
		}
	}
}
