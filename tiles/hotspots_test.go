package tiles

import (
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestHotspotLayerFeatures(t *testing.T) {
	cells := testHotCells()
	l := NewHotspotLayer(cells)
	tests := []struct {
		name string
		o    HotspotOptions
		keep func(HotCell) bool
	}{
		{name: "all", keep: func(HotCell) bool { return true }},
		{name: "k=3", o: HotspotOptions{MinCount: 3}, keep: func(c HotCell) bool { return c.Count >= 3 }},
		{name: "significant", o: HotspotOptions{OmitInsignificant: true}, keep: func(c HotCell) bool { return c.Bin != 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := 0
			for _, c := range cells {
				if tc.keep(c) {
					want++
				}
			}
			b, err := l.Render(cityTile, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			lay := layerByName(decodeTile(t, b), LayerHotspots)
			if len(lay.features) != want {
				t.Fatalf("%d features, want %d", len(lay.features), want)
			}
			for _, f := range lay.features {
				if _, err := f.polygons(); err != nil {
					t.Fatal(err)
				}
				count, bin := f.props["count"].(int64), f.props["bin"].(int64)
				if bin < -3 || bin > 3 || f.props["z"] == nil || f.props["p"] == nil {
					t.Fatalf("properties %v", f.props)
				}
				if z := f.props["z"].(float64); math.Abs(z-float64(bin)*1.2) > 1e-12 {
					t.Fatalf("z %v does not go with bin %d", z, bin)
				}
				if !tc.keep(HotCell{Count: int(count), Bin: int8(bin)}) {
					t.Fatalf("feature %v should have been left out", f.props)
				}
			}
		})
	}
}

// A 0.01° cell drawn whole has the area of its Web Mercator projection.
func TestHotspotCellGeometry(t *testing.T) {
	c := HotCell{Bound: orb.Bound{Min: orb.Point{116.50, 39.795}, Max: orb.Point{116.51, 39.805}}, Count: 5, Z: 2.5, P: 0.01, Bin: 2}
	id := TileID{Z: 14, X: 13494, Y: 6214}
	if tb := id.Bound(); !tb.Contains(c.Bound.Min) || !tb.Contains(c.Bound.Max) {
		t.Fatalf("pick a tile containing the cell: %v", tb)
	}
	b, err := NewHotspotLayer([]HotCell{c}).Render(id, HotspotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := layerByName(decodeTile(t, b), LayerHotspots).features[0]
	mb := id.MercatorBound()
	unit := (mb.Max[0] - mb.Min[0]) / Extent
	w := (c.Bound.Max[0] - c.Bound.Min[0]) * math.Pi / 180 * orb.EarthRadius / unit
	merc := func(lat float64) float64 {
		return orb.EarthRadius * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
	}
	h := (merc(c.Bound.Max[1]) - merc(c.Bound.Min[1])) / unit
	if got := float64(f.area2()) / 2; math.Abs(got-w*h) > w+h {
		t.Errorf("cell area %.0f units², want %.0f", got, w*h)
	}
}

func TestHotspotCapKeepsStrongestBins(t *testing.T) {
	l := NewHotspotLayer(testHotCells())
	b, err := l.Render(cityTile, HotspotOptions{MaxFeatures: 10})
	if err != nil {
		t.Fatal(err)
	}
	feats := layerByName(decodeTile(t, b), LayerHotspots).features
	if len(feats) != 10 {
		t.Fatalf("%d features, want 10", len(feats))
	}
	for _, f := range feats {
		if bin := f.props["bin"].(int64); bin != 3 && bin != -3 {
			t.Errorf("capped tile kept bin %d before the ±3 cells", bin)
		}
	}
}

func TestHotspotNaNLeftOut(t *testing.T) {
	c := HotCell{Bound: orb.Bound{Min: orb.Point{116.5, 39.8}, Max: orb.Point{116.51, 39.81}}, Z: math.NaN(), P: math.NaN()}
	b, err := NewHotspotLayer([]HotCell{c}).Render(cityTile, HotspotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := layerByName(decodeTile(t, b), LayerHotspots).features[0]
	if _, ok := f.props["z"]; ok {
		t.Errorf("NaN z written: %v", f.props)
	}
	if _, err := NewHotspotLayer(nil).Render(TileID{Z: 1, X: 2}, HotspotOptions{}); !errors.Is(err, ErrInvalidTile) {
		t.Errorf("bad tile: %v", err)
	}
}
