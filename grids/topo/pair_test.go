package topo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/peterstace/simplefeatures/geom"
)

// randomLatticeShape is a rectangle, a triangle or an L-shape with
// vertices on a 6×6 integer lattice, so that pairs often share vertices,
// edges and collinear runs: the degenerate contacts the edge test must get
// right.
func randomLatticeShape(rng *rand.Rand) shape {
	c := func() float64 { return float64(rng.IntN(7)) }
	var r ring
	switch rng.IntN(3) {
	case 0:
		x0, y0 := c(), c()
		x1, y1 := c(), c()
		if x0 == x1 || y0 == y1 {
			return shape{}
		}
		r = ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	case 1:
		r = ring{{c(), c()}, {c(), c()}, {c(), c()}}
	default:
		x0, y0 := float64(rng.IntN(3)), float64(rng.IntN(3))
		w, h := float64(2+rng.IntN(3)), float64(2+rng.IntN(3))
		r = ring{{x0, y0}, {x0 + w, y0}, {x0 + w, y0 + 1}, {x0 + 1, y0 + 1}, {x0 + 1, y0 + h}, {x0, y0 + h}}
	}
	if a := ringArea(r); a == 0 {
		return shape{}
	} else if a < 0 {
		reverse(r)
	}
	s := shape{polys: []polygon{{r}}, box: emptyBox()}
	for _, p := range r {
		s.box.extend(p)
	}
	if s.validate(projection{kx: 1, ky: 1}) != nil {
		return shape{}
	}
	return s
}

// TestInteriorsDisjointSound checks the edge test against the exact
// overlay: whenever it clears a pair, the pair's intersection has no area.
func TestInteriorsDisjointSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	var cleared, overlapping, pairs int
	for pairs < 3000 {
		a, b := randomLatticeShape(rng), randomLatticeShape(rng)
		if len(a.polys) == 0 || len(b.polys) == 0 {
			continue
		}
		pairs++
		g, err := geom.Intersection(a.sf(), b.sf())
		if err != nil {
			t.Fatal(err)
		}
		area := g.Area()
		if area > 0 {
			overlapping++
		}
		if interiorsDisjoint(&a, &b) {
			cleared++
			if area > 1e-12 {
				t.Errorf("cleared a pair that overlaps by %g: %v / %v", area, a.polys, b.polys)
			}
		}
		if interiorsDisjoint(&a, &b) != interiorsDisjoint(&b, &a) {
			t.Errorf("not symmetric: %v / %v", a.polys, b.polys)
		}
	}
	// Clearing must be common among the pairs that do not overlap (they
	// mostly touch along lattice lines).
	if cleared < (pairs-overlapping)/2 {
		t.Errorf("cleared %d of %d non-overlapping pairs", cleared, pairs-overlapping)
	}
	t.Logf("%d pairs, %d overlapping, %d cleared", pairs, overlapping, cleared)
}

// TestRingSimpleAgainstSimplefeatures compares the ring check with
// simplefeatures' polygon validation on random rings of a small lattice,
// where self-touching and collinear folds are frequent.
func TestRingSimpleAgainstSimplefeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 11))
	var simple, notSimple int
	for trial := 0; trial < 4000; trial++ {
		n := 3 + rng.IntN(6)
		var r ring
		for len(r) < n {
			p := xy{float64(rng.IntN(5)), float64(rng.IntN(5))}
			if len(r) > 0 && r[len(r)-1] == p {
				continue
			}
			r = append(r, p)
		}
		if r[0] == r[len(r)-1] {
			continue
		}
		s := shape{polys: []polygon{{r}}}
		want := s.sf().Validate() == nil
		_, got := ringSimple(r)
		if got != want {
			t.Errorf("ring %v: simple %v, simplefeatures says %v", r, got, want)
		}
		if got {
			simple++
		} else {
			notSimple++
		}
	}
	if simple < 100 || notSimple < 100 {
		t.Errorf("%d simple and %d non-simple rings: too few of one", simple, notSimple)
	}
	t.Logf("%d simple, %d not", simple, notSimple)
}

// Large rings take the sweep path of ringSimple.
func TestRingSimpleLargeRings(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	var simple, notSimple int
	for trial := 0; trial < 60; trial++ {
		n := 150 + rng.IntN(300)
		r := make(ring, n)
		for i := range r {
			a := 2 * math.Pi * float64(i) / float64(n)
			rad := 100 + 3*rng.Float64()
			r[i] = xy{rad * math.Cos(a), rad * math.Sin(a)}
		}
		if trial%2 == 1 {
			i, j := rng.IntN(n), rng.IntN(n)
			r[i], r[j] = r[j], r[i]
		}
		s := shape{polys: []polygon{{r}}}
		want := s.sf().Validate() == nil
		_, got := ringSimple(r)
		if got != want {
			t.Errorf("trial %d: simple %v, simplefeatures says %v", trial, got, want)
		}
		if got {
			simple++
		} else {
			notSimple++
		}
	}
	if simple < 10 || notSimple < 10 {
		t.Errorf("%d simple and %d non-simple rings", simple, notSimple)
	}
}
