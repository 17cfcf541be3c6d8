package topo

import (
	"math"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Hand-made sets are drawn in metres on the equator, where one degree of
// longitude is 111 319.491 m and one of latitude 110 574.276 m (WGS84,
// a = 6 378 137 m, 1/f = 298.257223563: a·π/180 and a(1−e²)·π/180). Within
// a few hundred metres of the equator the scale varies by under 1e-9, so
// the areas drawn are the areas expected.
const (
	metresPerDegLon = 111319.491
	metresPerDegLat = 110574.276
)

func pt(x, y float64) orb.Point { return orb.Point{x / metresPerDegLon, y / metresPerDegLat} }

// ringM builds a closed ring from x,y pairs in metres, as given.
func ringM(xys ...float64) orb.Ring {
	r := make(orb.Ring, 0, len(xys)/2+1)
	for i := 0; i+1 < len(xys); i += 2 {
		r = append(r, pt(xys[i], xys[i+1]))
	}
	return append(r, r[0])
}

// rectM is the counter-clockwise rectangle [x0,x1]×[y0,y1] in metres.
func rectM(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{ringM(x0, y0, x1, y0, x1, y1, x0, y1)}
}

func mp(ps ...orb.Polygon) orb.MultiPolygon { return orb.MultiPolygon(ps) }

func grid(code string, level grids.Level, parent string, g orb.MultiPolygon) *grids.Grid {
	return &grids.Grid{Code: code, Name: code, Level: level, Parent: parent, Geometry: g}
}

const (
	dCode = "110101"
	sCode = "110101001"
	cCode = "110101001001"
	leafA = "110101001001001"
	leafB = "110101001001002"
	leafC = "110101001001003"
	leafD = "110101001001004"
)

// square200 is the 200 m square with a vertex at the middle of each side,
// where the four leaves of block meet its outline.
func square200() orb.Polygon {
	return orb.Polygon{ringM(0, 0, 100, 0, 200, 0, 200, 100, 200, 200, 100, 200, 0, 200, 0, 100)}
}

// block is a 2×2 block of 100 m squares (A south-west, B south-east, C
// north-west, D north-east) under one community, street and district that
// are each the 200 m square. leaves overrides leaf geometry by code.
func block(leaves map[string]orb.MultiPolygon) []*grids.Grid {
	parent := mp(square200())
	leaf := func(code string, def orb.Polygon) *grids.Grid {
		g := mp(def)
		if o, ok := leaves[code]; ok {
			g = o
		}
		return grid(code, grids.LevelGrid, cCode, g)
	}
	return []*grids.Grid{
		grid(dCode, grids.LevelDistrict, "", parent),
		grid(sCode, grids.LevelStreet, dCode, parent),
		grid(cCode, grids.LevelCommunity, sCode, parent),
		leaf(leafA, rectM(0, 0, 100, 100)),
		leaf(leafB, rectM(100, 0, 200, 100)),
		leaf(leafC, rectM(0, 100, 100, 200)),
		leaf(leafD, rectM(100, 100, 200, 200)),
	}
}

// contains tells whether a problem geometry holds its place.
func geometryContains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func kinds(r Report) map[string]int {
	out := map[string]int{}
	for _, p := range r.Problems {
		out[p.Kind]++
	}
	return out
}

func logReport(t *testing.T, r Report) {
	t.Helper()
	for _, p := range r.Problems {
		t.Logf("  %s %s %v %.4f m²: %s", p.Severity, p.Kind, p.Grids, p.AreaM2, p.Message)
	}
}
