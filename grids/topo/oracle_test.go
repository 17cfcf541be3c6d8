package topo

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
)

// metreRing is a ring in metres as a simplefeatures ring, for the oracle.
func metreRing(xys [][2]float64) geom.LineString {
	c := make([]float64, 0, 2*len(xys)+2)
	for _, p := range xys {
		c = append(c, p[0], p[1])
	}
	c = append(c, xys[0][0], xys[0][1])
	return geom.NewLineString(geom.NewSequence(c, geom.DimXY))
}

// TestValidateAgainstOracle perturbs the corners of a 3×3 block of 100 m
// leaves at random and compares the overlap, gap and outside areas that
// Validate reports with a brute-force oracle: every pair of leaves
// intersected, the parent minus the union of all leaves, each leaf minus
// the parent, all in the metre plane (no projection, no R-tree, no edge
// test, no edge cancellation).
func TestValidateAgainstOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	var outline [][2]float64
	for i := 0; i < 3; i++ {
		outline = append(outline, [2]float64{float64(i) * 100, 0})
	}
	for i := 0; i < 3; i++ {
		outline = append(outline, [2]float64{300, float64(i) * 100})
	}
	for i := 3; i > 0; i-- {
		outline = append(outline, [2]float64{float64(i) * 100, 300})
	}
	for i := 3; i > 0; i-- {
		outline = append(outline, [2]float64{0, float64(i) * 100})
	}
	parentM := geom.NewPolygon([]geom.LineString{metreRing(outline)}).AsGeometry()
	parent := orb.MultiPolygon{{toDeg(outline)}}

	var withOverlap, withGap, withOutside, clean int
	for trial := 0; trial < 40; trial++ {
		t.Run(fmt.Sprintf("trial %d", trial), func(t *testing.T) {
			set := []*grids.Grid{
				grid(dCode, grids.LevelDistrict, "", parent),
				grid(sCode, grids.LevelStreet, dCode, parent),
				grid(cCode, grids.LevelCommunity, sCode, parent),
			}
			var leavesM []geom.Geometry
			for j := 0; j < 3; j++ {
				for i := 0; i < 3; i++ {
					corners := [][2]float64{
						{float64(i) * 100, float64(j) * 100}, {float64(i+1) * 100, float64(j) * 100},
						{float64(i+1) * 100, float64(j+1) * 100}, {float64(i) * 100, float64(j+1) * 100},
					}
					for k := range corners {
						if rng.Float64() < [2]float64{0.25, 0.02}[trial%2] {
							corners[k][0] += rng.Float64()*16 - 8
							corners[k][1] += rng.Float64()*16 - 8
						}
					}
					leavesM = append(leavesM, geom.NewPolygon([]geom.LineString{metreRing(corners)}).AsGeometry())
					code := fmt.Sprintf("%s%03d", cCode, 3*j+i+1)
					set = append(set, grid(code, grids.LevelGrid, cCode, orb.MultiPolygon{{toDeg(corners)}}))
				}
			}
			var wantOverlap, wantOutside float64
			for a := range leavesM {
				for b := a + 1; b < len(leavesM); b++ {
					wantOverlap += mustArea(t, geom.Intersection, leavesM[a], leavesM[b])
				}
				wantOutside += mustArea(t, geom.Difference, leavesM[a], parentM)
			}
			u, err := geom.UnionMany(leavesM)
			if err != nil {
				t.Fatal(err)
			}
			wantGap := mustArea(t, geom.Difference, parentM, u)

			r := Validate(set, Options{MinAreaM2: 1e-9})
			var gotOverlap, gotGap, gotOutside float64
			for _, p := range r.Problems {
				switch p.Kind {
				case KindOverlap:
					gotOverlap += p.AreaM2
				case KindGap:
					gotGap += p.AreaM2
				case KindOutsideParent:
					gotOutside += p.AreaM2
				case KindSliver:
				default:
					t.Errorf("unexpected %s: %s", p.Kind, p.Message)
				}
			}
			checks := []struct {
				name      string
				got, want float64
			}{
				{"overlap", gotOverlap, wantOverlap},
				{"gap", gotGap, wantGap},
				{"outside parent", gotOutside, wantOutside},
			}
			if wantOverlap > 1 {
				withOverlap++
			}
			if wantGap > 1 {
				withGap++
			}
			if wantOutside > 1 {
				withOutside++
			}
			if len(r.Problems) == 0 {
				clean++
			}
			for _, c := range checks {
				if !near(c.got, c.want, 1e-3) {
					t.Errorf("%s: %.6f m², oracle %.6f", c.name, c.got, c.want)
				}
			}
		})
	}
	// The perturbations must exercise every kind, and leave some sets clean.
	if withOverlap < 10 || withGap < 10 || withOutside < 5 || clean < 3 {
		t.Errorf("trials with overlaps %d, gaps %d, outside parts %d, clean %d: too few", withOverlap, withGap, withOutside, clean)
	}
	t.Logf("trials with overlaps %d, gaps %d, outside parts %d, clean %d of 40", withOverlap, withGap, withOutside, clean)
}

func toDeg(xys [][2]float64) orb.Ring {
	r := make(orb.Ring, 0, len(xys)+1)
	for _, p := range xys {
		r = append(r, pt(p[0], p[1]))
	}
	return append(r, r[0])
}

func mustArea(t *testing.T, op func(a, b geom.Geometry) (geom.Geometry, error), a, b geom.Geometry) float64 {
	t.Helper()
	g, err := op(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return g.Area()
}
