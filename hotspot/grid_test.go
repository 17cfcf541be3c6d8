package hotspot

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// Lengths of one degree on WGS84, as tabulated (to the metre) in the usual
// "length of a degree" tables.
func TestProjectionScale(t *testing.T) {
	tests := []struct {
		lat      float64
		latDegM  float64
		lonDegM  float64
		tolerMet float64
	}{
		{0, 110574, 111320, 1},
		{30, 110852, 96486, 1},
		{45, 111132, 78847, 1},
		{60, 111412, 55800, 1},
	}
	for _, tc := range tests {
		p := NewProjection(116, tc.lat)
		x, _ := p.Forward(117, tc.lat)
		_, y := p.Forward(116, tc.lat+1)
		if math.Abs(x-tc.lonDegM) > tc.tolerMet || math.Abs(y-tc.latDegM) > tc.tolerMet {
			t.Errorf("lat %v: degree = %.1f m × %.1f m, want %v × %v", tc.lat, x, y, tc.lonDegM, tc.latDegM)
		}
		lon, lat := p.Inverse(p.Forward(116.4, tc.lat+0.2))
		if math.Abs(lon-116.4) > 1e-12 || math.Abs(lat-tc.lat-0.2) > 1e-12 {
			t.Errorf("round trip gave %v, %v", lon, lat)
		}
	}
}

func beijingBound() orb.Bound {
	return orb.Bound{Min: orb.Point{116.30, 39.85}, Max: orb.Point{116.45, 39.95}}
}

func TestNewGrid(t *testing.T) {
	g, err := NewGrid(beijingBound(), 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 0.15° of longitude at 39.9°N is about 12.8 km, 0.1° of latitude 11.1 km.
	if g.NX != 26 || g.NY != 23 || g.Len() != g.NX*g.NY {
		t.Errorf("lattice %d×%d with %d cells", g.NX, g.NY, g.Len())
	}
	// A cell is a 500 m square in the projection and its polygon is closed
	// and counter-clockwise.
	poly := g.Polygon(7)
	ring := poly[0]
	if ring[0] != ring[len(ring)-1] || ring.Orientation() != orb.CCW {
		t.Errorf("cell ring not closed counter-clockwise: %v", ring)
	}
	x0, y0 := g.Proj.Forward(ring[0][0], ring[0][1])
	x2, y2 := g.Proj.Forward(ring[2][0], ring[2][1])
	if math.Abs(x2-x0-500) > 1e-6 || math.Abs(y2-y0-500) > 1e-6 {
		t.Errorf("cell is %.6f × %.6f m", x2-x0, y2-y0)
	}
	if c := g.Bound(7).Center(); g.Locate(c[0], c[1]) != 7 {
		t.Errorf("centre of cell 7 located in %d", g.Locate(c[0], c[1]))
	}
	if g.Locate(100, 10) != -1 {
		t.Error("far point located in a cell")
	}
}

func TestNewGridKeepsInsideCells(t *testing.T) {
	// A round jurisdiction: keep cells whose centre is within 4 km.
	b := beijingBound()
	centre := b.Center()
	p := NewProjection(centre[0], centre[1])
	g, err := NewGrid(b, 500, func(c orb.Point, _ orb.Bound) bool {
		x, y := p.Forward(c[0], c[1])
		return math.Hypot(x, y) <= 4000
	})
	if err != nil {
		t.Fatal(err)
	}
	// About π·4²/0.25 ≈ 201 cells.
	if g.Len() < 180 || g.Len() > 220 {
		t.Errorf("%d cells kept", g.Len())
	}
	// Points in dropped cells are not located.
	corner := b.Min
	if g.Locate(corner[0]+1e-6, corner[1]+1e-6) != -1 {
		t.Error("corner of the box located though outside the circle")
	}
	if _, err := NewGrid(b, 500, func(orb.Point, orb.Bound) bool { return false }); err == nil {
		t.Error("grid with no cells accepted")
	}
}

func TestNewGridRejects(t *testing.T) {
	tests := []struct {
		name  string
		bound orb.Bound
		cell  float64
	}{
		{"zero cell", beijingBound(), 0},
		{"negative cell", beijingBound(), -5},
		{"too many cells", orb.Bound{Min: orb.Point{70, 10}, Max: orb.Point{135, 55}}, 1},
		{"inverted bound", orb.Bound{Min: orb.Point{117, 40}, Max: orb.Point{116, 39}}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewGrid(tc.bound, tc.cell, nil); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestLocateHalfOpenEdges(t *testing.T) {
	g, err := NewGrid(beijingBound(), 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Shared edges belong to the cell east or north of them, for every
	// edge of the lattice despite rounding.
	for i := 0; i < g.Len(); i++ {
		b := g.Bound(i)
		c := b.Center()
		if got := g.Locate(b.Min[0], c[1]); got != i {
			t.Fatalf("west edge of cell %d located in %d", i, got)
		}
		if got := g.Locate(c[0], b.Min[1]); got != i {
			t.Fatalf("south edge of cell %d located in %d", i, got)
		}
		if got := g.Locate(b.Min[0], b.Min[1]); got != i {
			t.Fatalf("south-west corner of cell %d located in %d", i, got)
		}
		east := -1
		if int(g.Col[i]) < g.NX-1 {
			east = i + 1
		}
		if got := g.Locate(b.Max[0], c[1]); got != east {
			t.Fatalf("east edge of cell %d located in %d, want %d", i, got, east)
		}
	}
}

func testPoints(g *Grid) Points {
	// Three incidents in cell 0, one in cell 5, one outside, at known times
	// and categories.
	var p Points
	add := func(cell int, at time.Time, cat uint16) {
		lon, lat := 0.0, 0.0
		if cell >= 0 {
			lon, lat = g.Bound(cell).Center()[0], g.Bound(cell).Center()[1]
		}
		p.Lon = append(p.Lon, lon)
		p.Lat = append(p.Lat, lat)
		p.ReportedAt = append(p.ReportedAt, at.Unix())
		p.Category = append(p.Category, cat)
	}
	day := func(d int) time.Time { return time.Date(2024, 3, d, 12, 0, 0, 0, time.UTC) }
	add(0, day(1), 1)
	add(0, day(2), 2)
	add(0, day(9), 1)
	add(5, day(15), 1)
	add(-1, day(3), 1)
	return p
}

func TestCount(t *testing.T) {
	g, err := NewGrid(beijingBound(), 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testPoints(g)
	march := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		f      Filter
		cell0  float64
		cell5  float64
		total  float64
		hasErr bool
	}{
		{"everything", Filter{}, 3, 1, 4, false},
		{"first week", Filter{From: march(1), To: march(8)}, 2, 0, 2, false},
		{"category 1", Filter{Categories: []uint16{1}}, 2, 1, 3, false},
		{"to is exclusive", Filter{From: march(1), To: time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)}, 2, 0, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counts, err := g.Count(p, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var total float64
			for _, c := range counts {
				total += c
			}
			if counts[0] != tc.cell0 || counts[5] != tc.cell5 || total != tc.total {
				t.Errorf("cell0=%v cell5=%v total=%v", counts[0], counts[5], total)
			}
		})
	}
	if _, err := g.Count(Points{Lon: p.Lon, Lat: p.Lat}, Filter{From: march(1)}); err == nil {
		t.Error("time filter on points without times accepted")
	}
}

func TestStepBoundaries(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2024, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		step     Step
		from, to time.Time
		want     []time.Time
	}{
		{"days", StepDay, d(3, 1), d(3, 4), []time.Time{d(3, 1), d(3, 2), d(3, 3), d(3, 4)}},
		{"weeks drop the partial start", StepWeek, d(3, 1), d(3, 25), []time.Time{d(3, 4), d(3, 11), d(3, 18), d(3, 25)}},
		{"calendar months", StepMonth, d(1, 1), d(4, 1), []time.Time{d(1, 1), d(2, 1), d(3, 1), d(4, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.step.Boundaries(tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, time.Time.Equal) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := StepWeek.Boundaries(d(3, 1), d(3, 5)); err == nil {
		t.Error("range shorter than a step accepted")
	}
	if _, err := ParseStep("fortnight"); err == nil {
		t.Error("unknown step accepted")
	}
}

func TestCube(t *testing.T) {
	g, err := NewGrid(beijingBound(), 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testPoints(g)
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 3, 22, 0, 0, 0, 0, time.UTC)
	c, err := g.Cube(p, Filter{From: from, To: to}, StepWeek)
	if err != nil {
		t.Fatal(err)
	}
	if c.T != 3 || c.N != g.Len() {
		t.Fatalf("cube %d×%d", c.N, c.T)
	}
	if got := c.Series(0); !slices.Equal(got, []float64{2, 1, 0}) {
		t.Errorf("cell 0 series %v, want [2 1 0]", got)
	}
	if got := c.Series(5); !slices.Equal(got, []float64{0, 0, 1}) {
		t.Errorf("cell 5 series %v, want [0 0 1]", got)
	}
}

func TestHotspotsFindsPlantedCluster(t *testing.T) {
	g, err := NewGrid(beijingBound(), 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One incident in every cell, forty more in a 3×3 block around (10, 10).
	var p Points
	put := func(c, r, n int) {
		lon, lat := g.Proj.Inverse(g.X0+(float64(c)+0.5)*500, g.Y0+(float64(r)+0.5)*500)
		for range n {
			p.Lon, p.Lat = append(p.Lon, lon), append(p.Lat, lat)
		}
	}
	for r := range g.NY {
		for c := range g.NX {
			put(c, r, 1)
		}
	}
	for r := 9; r <= 11; r++ {
		for c := 9; c <= 11; c++ {
			put(c, r, 40)
		}
	}
	res, err := g.Hotspots(p, Filter{}, HotspotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BandM != 500 {
		t.Errorf("default band %v, want the cell size", res.BandM)
	}
	centre := 10*g.NX + 10
	if res.Bins[centre] != 3 || res.Counts[centre] != 41 {
		t.Errorf("centre bin %d count %v", res.Bins[centre], res.Counts[centre])
	}
	for i, b := range res.Bins {
		c, r := int(g.Col[i]), int(g.Row[i])
		near := c >= 8 && c <= 12 && r >= 8 && r <= 12
		if b > 0 && !near {
			t.Errorf("cell (%d,%d) is hot, far from the cluster", c, r)
		}
	}
	knn, err := g.Hotspots(p, Filter{}, HotspotOptions{NeighbourOptions: NeighbourOptions{K: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if knn.Bins[centre] != 3 {
		t.Errorf("k-nearest centre bin %d", knn.Bins[centre])
	}
	gi, err := g.Hotspots(p, Filter{}, HotspotOptions{ExcludeSelf: true, NeighbourOptions: NeighbourOptions{BandM: 750}})
	if err != nil {
		t.Fatal(err)
	}
	if gi.Bins[centre] != 3 || gi.BandM != 750 {
		t.Errorf("Gi centre bin %d band %v", gi.Bins[centre], gi.BandM)
	}
}
