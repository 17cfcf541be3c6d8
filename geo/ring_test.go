package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

func TestRingArea(t *testing.T) {
	tests := []struct {
		name string
		ring orb.Ring
		want float64
	}{
		{name: "unit square ccw", ring: orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, want: 1},
		{name: "unit square cw", ring: orb.Ring{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}, want: -1},
		{name: "unclosed", ring: orb.Ring{{0, 0}, {2, 0}, {2, 3}, {0, 3}}, want: 6},
		{name: "triangle far from origin", ring: orb.Ring{{116, 39}, {116.5, 39}, {116, 40}, {116, 39}}, want: 0.25},
		{name: "bow-tie cancels", ring: orb.Ring{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}, want: 0},
		{name: "two points", ring: orb.Ring{{0, 0}, {1, 1}}, want: 0},
		{name: "empty", ring: nil, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RingArea(tt.ring); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("RingArea = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHaversine(t *testing.T) {
	tests := []struct {
		name string
		a, b orb.Point
		want float64 // metres
		tol  float64
	}{
		// One degree of a meridian is R·π/180.
		{name: "one degree of latitude", a: orb.Point{116, 39}, b: orb.Point{116, 40},
			want: EarthMeanRadius * math.Pi / 180, tol: 1e-6},
		// Rosetta Code "Haversine formula": BNA (36.12, -86.67) to LAX
		// (33.94, -118.40) is 2886.444442837983 km on R = 6371.0 km; the
		// distance scales with R.
		{name: "rosetta code BNA to LAX", a: orb.Point{-86.67, 36.12}, b: orb.Point{-118.40, 33.94},
			want: 2886444.442837983 * EarthMeanRadius / 6371000, tol: 1e-3},
		{name: "same point", a: orb.Point{116.4, 39.9}, b: orb.Point{116.4, 39.9}, want: 0, tol: 0},
		{name: "antipodes", a: orb.Point{0, 0}, b: orb.Point{180, 0}, want: math.Pi * EarthMeanRadius, tol: 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Haversine(tt.a, tt.b); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Haversine = %.6f, want %.6f", got, tt.want)
			}
		})
	}
}

// cellArea is the exact area of a lon/lat cell on a sphere of radius R:
// R²·Δλ·(sin φ2 − sin φ1).
func cellArea(lon1, lat1, lon2, lat2 float64) float64 {
	r := EarthAuthalicRadius
	return r * r * (lon2 - lon1) * math.Pi / 180 * (math.Sin(lat2*math.Pi/180) - math.Sin(lat1*math.Pi/180))
}

func cell(lon1, lat1, lon2, lat2 float64) orb.Ring {
	return orb.Ring{{lon1, lat1}, {lon2, lat1}, {lon2, lat2}, {lon1, lat2}, {lon1, lat1}}
}

func TestGeodesicArea(t *testing.T) {
	cw := cell(116, 39, 117, 40)
	slices.Reverse(cw)
	tests := []struct {
		name string
		poly orb.Polygon
		want float64
	}{
		{name: "degree cell at the equator", poly: orb.Polygon{cell(0, 0, 1, 1)}, want: cellArea(0, 0, 1, 1)},
		{name: "degree cell at beijing", poly: orb.Polygon{cell(116, 39, 117, 40)}, want: cellArea(116, 39, 117, 40)},
		{name: "clockwise exterior", poly: orb.Polygon{cw}, want: cellArea(116, 39, 117, 40)},
		{name: "small city grid", poly: orb.Polygon{cell(116.40, 39.90, 116.41, 39.91)}, want: cellArea(116.40, 39.90, 116.41, 39.91)},
		{name: "with a hole", poly: orb.Polygon{cell(116, 39, 117, 40), cell(116.2, 39.2, 116.4, 39.4)},
			want: cellArea(116, 39, 117, 40) - cellArea(116.2, 39.2, 116.4, 39.4)},
		{name: "empty", poly: nil, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GeodesicArea(tt.poly)
			if math.Abs(got-tt.want) > 1e-9*math.Max(1, tt.want) {
				t.Errorf("GeodesicArea = %.3f m², want %.3f m²", got, tt.want)
			}
		})
	}
	// Against the ellipsoid: a 0.01° cell in Beijing is about 0.95 km²
	// (1113.2 m of longitude × cos 39.9° × 1110.1 m of latitude).
	if got := GeodesicArea(orb.Polygon{cell(116.40, 39.90, 116.41, 39.91)}); math.Abs(got-948_000)/948_000 > 0.005 {
		t.Errorf("0.01° cell in Beijing = %.0f m², want about 948000", got)
	}
}

func TestRingSelfIntersects(t *testing.T) {
	tests := []struct {
		name  string
		ring  orb.Ring
		want  bool
		where orb.Point
	}{
		{name: "square", ring: orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
		{name: "square unclosed", ring: orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}}},
		{name: "triangle", ring: orb.Ring{{0, 0}, {1, 0}, {0, 1}, {0, 0}}},
		{name: "concave L", ring: orb.Ring{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}, {0, 0}}},
		{name: "repeated vertex is ignored", ring: orb.Ring{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}, {0, 0}}},
		{name: "collinear vertex going on", ring: orb.Ring{{0, 0}, {1, 0}, {2, 0}, {2, 1}, {0, 1}, {0, 0}}},
		{name: "bow-tie", ring: orb.Ring{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}, want: true, where: orb.Point{1, 1}},
		{name: "touching vertex (figure eight)",
			ring: orb.Ring{{0, 0}, {1, 1}, {2, 0}, {2, 2}, {1, 1}, {0, 2}, {0, 0}}, want: true, where: orb.Point{1, 1}},
		{name: "vertex on another edge",
			ring: orb.Ring{{0, 0}, {4, 0}, {4, 2}, {2, 0}, {0, 2}, {0, 0}}, want: true, where: orb.Point{2, 0}},
		{name: "collinear overlap of non-adjacent edges",
			ring: orb.Ring{{0, 0}, {4, 0}, {4, 1}, {3, 1}, {3, 0}, {1, 0}, {1, 2}, {0, 2}, {0, 0}}, want: true, where: orb.Point{3, 0}},
		{name: "spike folding back", ring: orb.Ring{{0, 0}, {4, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, want: true, where: orb.Point{4, 0}},
		{name: "spike at the closing vertex", ring: orb.Ring{{1, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}, {1, 0}, {0, 0}}, want: true},
		{name: "there and back", ring: orb.Ring{{0, 0}, {1, 1}, {0, 0}}, want: true},
		{name: "flat triangle", ring: orb.Ring{{0, 0}, {2, 0}, {1, 0}, {0, 0}}, want: true},
		{name: "tiny valid triangle", ring: orb.Ring{{116.4, 39.9}, {116.4 + 1e-12, 39.9}, {116.4, 39.9 + 1e-12}, {116.4, 39.9}}},
		{name: "two points", ring: orb.Ring{{0, 0}, {1, 1}}, want: true, where: orb.Point{1, 1}},
		{name: "one point", ring: orb.Ring{{1, 1}, {1, 1}, {1, 1}}},
		{name: "empty", ring: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, where := RingSelfIntersects(tt.ring)
			if got != tt.want {
				t.Fatalf("RingSelfIntersects = %v at %v, want %v", got, where, tt.want)
			}
			if tt.want && tt.where != (orb.Point{}) && Haversine(where, tt.where) > 1e-3 {
				t.Errorf("place = %v, want %v", where, tt.where)
			}
			// A big ring goes through the sweep: pad the ring with vertices
			// along its first edge, which changes nothing about simplicity.
			if len(tt.ring) >= 4 && tt.ring[0] != tt.ring[1] {
				big := padFirstEdge(tt.ring, 200)
				if got, where := RingSelfIntersects(big); got != tt.want {
					t.Errorf("padded to %d vertices: %v at %v, want %v", len(big), got, where, tt.want)
				}
			}
		})
	}
}

// padFirstEdge inserts k vertices evenly along the ring's first edge.
func padFirstEdge(r orb.Ring, k int) orb.Ring {
	a, b := r[0], r[1]
	out := orb.Ring{a}
	for i := 1; i <= k; i++ {
		t := float64(i) / float64(k+1)
		p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		// Points off the exact line would bend the edge; keep only exact ones.
		if orient(a, b, p) == 0 && p != a && p != b {
			out = append(out, p)
		}
	}
	return append(out, r[1:]...)
}

// bruteSelfIntersects is the oracle: every pair of edges.
func bruteSelfIntersects(r orb.Ring) bool {
	v := ringVertices(r)
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			if hit, _ := edgesConflict(v, i, j); hit {
				return true
			}
		}
	}
	return false
}

// starRing is a simple polygon: vertices at increasing angles around a
// centre with random radii.
func starRing(rng *rand.Rand, n int, cx, cy float64) orb.Ring {
	r := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rad := 0.5 + rng.Float64()
		r = append(r, orb.Point{cx + rad*math.Cos(a)*0.01, cy + rad*math.Sin(a)*0.01})
	}
	return append(r, r[0])
}

func TestRingSelfIntersectsMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := range 300 {
		n := 65 + rng.IntN(300)
		ring := starRing(rng, n, 116.4, 39.9)
		switch iter % 3 {
		case 1: // swap two vertices: usually makes edges cross
			i, j := rng.IntN(n), rng.IntN(n)
			ring[i], ring[j] = ring[j], ring[i]
			ring[n] = ring[0]
		case 2: // move one vertex onto another, non-adjacent one
			i := rng.IntN(n-4) + 2
			ring[i] = ring[(i+n/2)%n]
			ring[n] = ring[0]
		}
		want := bruteSelfIntersects(ring)
		got, where := RingSelfIntersects(ring)
		if got != want {
			t.Fatalf("iter %d (n=%d): sweep says %v at %v, brute force %v", iter, n, got, where, want)
		}
		if iter%3 == 0 && got {
			t.Fatalf("iter %d: star ring reported self-intersecting at %v", iter, where)
		}
	}
}

// Rings of up to bruteForceMax vertices go through the small sweep; it
// must find a conflict exactly when some pair of edges has one. The rings
// sit on a coarse lattice, so touching vertices, vertices on edges,
// collinear overlaps and fold-backs all come up, besides crossings.
func TestSmallSweepMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	simple, hits := 0, 0
	for iter := range 20000 {
		n := 3 + rng.IntN(bruteForceMax-2)
		var ring orb.Ring
		switch iter % 4 {
		case 0: // a star, then one vertex moved onto the lattice nearby
			ring = starRing(rng, n, 116.4, 39.9)
			i := rng.IntN(n)
			ring[i] = orb.Point{math.Round(ring[i][0]*1e3) / 1e3, math.Round(ring[i][1]*1e3) / 1e3}
			ring[n] = ring[0]
		case 1: // random lattice points: mostly crossings and touches
			n = 3 + rng.IntN(12)
			for range n {
				ring = append(ring, orb.Point{float64(rng.IntN(6)), float64(rng.IntN(6))})
			}
		case 2: // a star with one vertex folded back onto its edge
			ring = starRing(rng, n, 116.4, 39.9)
			i := 1 + rng.IntN(n-2)
			a, b := ring[i-1], ring[i]
			ring[i+1] = orb.Point{a[0] + (b[0]-a[0])/2, a[1] + (b[1]-a[1])/2}
		default: // a star untouched: simple
			ring = starRing(rng, n, 116.4, 39.9)
		}
		v := ringVertices(ring)
		if len(v) < 3 || len(v) > bruteForceMax {
			continue
		}
		want := bruteSelfIntersects(ring)
		got, where := RingSelfIntersects(ring)
		if got != want {
			t.Fatalf("iter %d (n=%d): RingSelfIntersects says %v at %v, brute force %v: %v", iter, len(v), got, where, want, ring)
		}
		if got != smallSweepHits(v) {
			t.Fatalf("iter %d: small sweep says %v, brute force %v: %v", iter, !got, got, ring)
		}
		if _, p := pairsSelfIntersect(v); got && where != p {
			t.Fatalf("iter %d: conflict at %v, the pairwise test names %v", iter, where, p)
		}
		if got {
			hits++
		} else {
			simple++
		}
	}
	if simple < 5000 || hits < 5000 {
		t.Fatalf("cases not varied enough: %d simple, %d not", simple, hits)
	}
}

func TestRingSelfIntersectsThinRing(t *testing.T) {
	// A long north-south ring, where a sweep along x would compare everything.
	var ring orb.Ring
	const n = 4000
	for i := range n {
		ring = append(ring, orb.Point{116.4 + 1e-5*float64(i%2), 39 + float64(i)*1e-4})
	}
	for i := n - 1; i >= 0; i-- {
		ring = append(ring, orb.Point{116.4001 + 1e-5*float64(i%2), 39 + float64(i)*1e-4})
	}
	ring = append(ring, ring[0])
	if hit, where := RingSelfIntersects(ring); hit {
		t.Fatalf("thin ring reported self-intersecting at %v", where)
	}
	ring[n/2] = orb.Point{116.41, ring[n/2][1]} // poke through the other side
	if hit, _ := RingSelfIntersects(ring); !hit {
		t.Fatal("poked thin ring not reported")
	}
}

// The classic failure of naive orientation (Kettner et al., "Classroom
// examples of robustness problems in geometric computations"): points a few
// ulps from the line y = x, where the sign is that of y − x.
func TestOrientNearlyCollinear(t *testing.T) {
	q, r := orb.Point{12, 12}, orb.Point{24, 24}
	u := math.Nextafter(0.5, 1) - 0.5
	for i := range 64 {
		for j := range 64 {
			p := orb.Point{0.5 + float64(i)*u, 0.5 + float64(j)*u}
			want := 0
			switch {
			case j > i:
				want = 1
			case j < i:
				want = -1
			}
			if got := orient(p, q, r); got != want {
				t.Fatalf("orient(%v, %v, %v) = %d, want %d", p, q, r, got, want)
			}
		}
	}
}

// The expansion path of orientExact must agree with rational arithmetic,
// chiefly on nearly collinear triples where the float determinant fails.
func TestOrientExactMatchesRational(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 20000 {
		a := orb.Point{116 + rng.Float64(), 39 + rng.Float64()}
		b := orb.Point{116 + rng.Float64(), 39 + rng.Float64()}
		s := rng.Float64()
		c := orb.Point{a[0] + s*(b[0]-a[0]), a[1] + s*(b[1]-a[1])} // on ab, up to rounding
		for range rng.IntN(3) {
			c[rng.IntN(2)] = math.Nextafter(c[rng.IntN(2)], math.Inf(2*rng.IntN(2)-1))
		}
		if i%4 == 0 { // magnitudes far apart take the rational path
			c = orb.Point{c[0] * 1e-3, c[1] * 1e5}
		}
		if got, want := orientExact(a, b, c), orientRat(a, b, c); got != want {
			t.Fatalf("orientExact(%v, %v, %v) = %d, rational %d", a, b, c, got, want)
		}
		if got, want := orient(a, b, c), orientRat(a, b, c); got != want {
			t.Fatalf("orient(%v, %v, %v) = %d, rational %d", a, b, c, got, want)
		}
	}
}

func TestNormalizePolygon(t *testing.T) {
	ccw := orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}
	cw := slices.Clone(ccw)
	slices.Reverse(cw)
	holeCW := orb.Ring{{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}
	holeCCW := slices.Clone(holeCW)
	slices.Reverse(holeCCW)
	tests := []struct {
		name string
		in   orb.Polygon
		want orb.Polygon
	}{
		{name: "already rfc 7946", in: orb.Polygon{ccw, holeCW}, want: orb.Polygon{ccw, holeCW}},
		{name: "all reversed", in: orb.Polygon{cw, holeCCW}, want: orb.Polygon{ccw, holeCW}},
		{name: "exterior only cw", in: orb.Polygon{cw}, want: orb.Polygon{ccw}},
		{name: "hole only ccw", in: orb.Polygon{ccw, holeCCW}, want: orb.Polygon{ccw, holeCW}},
		{name: "nil", in: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := clonePolygon(tt.in)
			got := NormalizePolygon(tt.in)
			if !tt.want.Equal(got) {
				t.Errorf("NormalizePolygon = %v, want %v", got, tt.want)
			}
			if !before.Equal(tt.in) {
				t.Errorf("input modified: %v, was %v", tt.in, before)
			}
			if len(got) > 0 && len(tt.in) > 0 && &got[0][0] == &tt.in[0][0] {
				t.Error("result shares the input's ring")
			}
		})
	}
}

func clonePolygon(p orb.Polygon) orb.Polygon {
	if p == nil {
		return nil
	}
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = slices.Clone(r)
	}
	return out
}

// noisyCircle is a realistic boundary: a circle of radius ~0.01° whose
// vertices wobble by 2%, like a grid drawn along streets.
func noisyCircle(rng *rand.Rand, n int) orb.Ring {
	r := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rad := 0.01 * (1 + 0.02*rng.Float64())
		r = append(r, orb.Point{116.4 + rad*math.Cos(a), 39.9 + rad*math.Sin(a)})
	}
	return append(r, r[0])
}

func BenchmarkRingSelfIntersects(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		ring orb.Ring
	}{
		{"boundary/n=20", noisyCircle(rng, 20)},
		{"boundary/n=50", noisyCircle(rng, 50)},
		{"boundary/n=80", noisyCircle(rng, 80)},
		{"boundary/n=1000", noisyCircle(rng, 1000)},
		{"boundary/n=20000", noisyCircle(rng, 20000)},
		// Every edge spans half the ring's width: the sweep's worst case.
		{"zigzag/n=50", starRing(rng, 50, 116.4, 39.9)},
		{"zigzag/n=1000", starRing(rng, 1000, 116.4, 39.9)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if hit, _ := RingSelfIntersects(c.ring); hit {
					b.Fatal("simple ring reported self-intersecting")
				}
			}
		})
	}
}
