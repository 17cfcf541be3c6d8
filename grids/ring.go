package grids

import (
	"math"

	"github.com/paulmach/orb"
)

// preparedPoly is a leaf grid's geometry made ready for repeated
// point-in-polygon tests: the vertices of all its rings, the edges that can
// cross a horizontal ray (horizontal edges never do), and a y-band index so
// that a test looks only at the edges spanning the point's latitude.
//
// The test is a crossing-number test with a half-open rule: an edge counts
// when lo.y <= p.y < hi.y and p lies strictly left of the upward edge
// lo→hi. Both grids sharing an edge compute the same orientation from the
// same two vertices, so a point on a shared edge or vertex is claimed by
// exactly one of them: the one containing p + (ε, ε²), i.e. the grid just
// east of the point (just north for a horizontal edge).
type preparedPoly struct {
	minX, minY, maxX, maxY float64
	// pts holds every ring's vertices back to back; ring i spans
	// pts[ringStart[i]:ringStart[i+1]] and is closed (first == last).
	pts       []orb.Point
	ringStart []int32
	// bands: edge e is the segment pts[e], pts[e+1]. bandEdges lists, for
	// each band, the non-horizontal edges whose y-range meets the band.
	bandStart []uint32
	bandEdges []uint32
	bandInvH  float64
	nBands    int32
}

// minEdgesForBands is the edge count below which a single band (a plain
// scan) is as fast as the band lookup.
const minEdgesForBands = 12

func preparePoly(mp orb.MultiPolygon) preparedPoly {
	var p preparedPoly
	p.minX, p.minY = math.Inf(1), math.Inf(1)
	p.maxX, p.maxY = math.Inf(-1), math.Inf(-1)

	nRings, nPts := 0, 0
	var only orb.Ring
	for _, poly := range mp {
		for _, r := range poly {
			nRings++
			nPts += len(r)
			only = r
		}
	}
	// A single closed ring is referenced, not copied: the index then costs
	// little beyond the geometry the set already holds.
	if nRings == 1 && len(only) > 0 && only[0] == only[len(only)-1] {
		p.pts = only
		p.ringStart = []int32{0, int32(len(only))}
	} else {
		p.pts = make([]orb.Point, 0, nPts+nRings)
		p.ringStart = make([]int32, 0, nRings+1)
		for _, poly := range mp {
			for _, r := range poly {
				if len(r) == 0 {
					continue
				}
				p.ringStart = append(p.ringStart, int32(len(p.pts)))
				p.pts = append(p.pts, r...)
				if r[0] != r[len(r)-1] {
					p.pts = append(p.pts, r[0])
				}
			}
		}
		p.ringStart = append(p.ringStart, int32(len(p.pts)))
	}
	for _, pt := range p.pts {
		p.minX = math.Min(p.minX, pt[0])
		p.maxX = math.Max(p.maxX, pt[0])
		p.minY = math.Min(p.minY, pt[1])
		p.maxY = math.Max(p.maxY, pt[1])
	}

	var edges []uint32
	for ri := 0; ri+1 < len(p.ringStart); ri++ {
		for e := p.ringStart[ri]; e+1 < p.ringStart[ri+1]; e++ {
			if p.pts[e][1] != p.pts[e+1][1] {
				edges = append(edges, uint32(e))
			}
		}
	}
	nBands := 1
	if len(edges) >= minEdgesForBands && p.maxY > p.minY {
		nBands = len(edges) / 3
		if nBands > 1024 {
			nBands = 1024
		}
	}
	p.nBands = int32(nBands)
	if nBands == 1 {
		p.bandStart = []uint32{0, uint32(len(edges))}
		p.bandEdges = edges
		return p
	}
	p.bandInvH = float64(nBands) / (p.maxY - p.minY)
	counts := make([]uint32, nBands+1)
	for _, e := range edges {
		b0, b1 := p.edgeBands(e)
		for b := b0; b <= b1; b++ {
			counts[b+1]++
		}
	}
	for b := 1; b <= nBands; b++ {
		counts[b] += counts[b-1]
	}
	p.bandStart = counts
	p.bandEdges = make([]uint32, counts[nBands])
	fill := make([]uint32, nBands)
	copy(fill, counts[:nBands])
	for _, e := range edges {
		b0, b1 := p.edgeBands(e)
		for b := b0; b <= b1; b++ {
			p.bandEdges[fill[b]] = e
			fill[b]++
		}
	}
	return p
}

func (p *preparedPoly) band(y float64) int32 {
	b := int32((y - p.minY) * p.bandInvH)
	if b < 0 {
		return 0
	}
	if b >= p.nBands {
		return p.nBands - 1
	}
	return b
}

func (p *preparedPoly) edgeBands(e uint32) (int32, int32) {
	y0, y1 := p.pts[e][1], p.pts[e+1][1]
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	return p.band(y0), p.band(y1)
}

// claims reports whether the half-open rule gives point (x, y) to this
// polygon. Exactly one polygon of a partition claims each point of its
// interior, shared boundaries included.
func (p *preparedPoly) claims(x, y float64) bool {
	lo, hi := p.bandOf(x, y)
	return p.crossesOdd(x, y, lo, hi)
}

// bandOf gives the span of bandEdges that claims tests for (x, y): the
// band of y, or nothing for a point outside the polygon's box.
func (p *preparedPoly) bandOf(x, y float64) (lo, hi uint32) {
	if x < p.minX || x > p.maxX || y < p.minY || y >= p.maxY {
		return 0, 0
	}
	var b int32
	if p.nBands > 1 {
		b = p.band(y)
	}
	return p.bandStart[b], p.bandStart[b+1]
}

// crossesOdd is the crossing test on the edges bandEdges[lo:hi]: an edge
// counts when lo.y <= y < hi.y and the point lies strictly left of it.
func (p *preparedPoly) crossesOdd(x, y float64, lo, hi uint32) bool {
	inside := false
	pts := p.pts
	for _, e := range p.bandEdges[lo:hi] {
		// Scalars rather than orb.Points, which the compiler keeps in
		// memory. (lx, ly) is the lower end, (hx, hy) the upper.
		seg := pts[e : e+2]
		lx, ly, hx, hy := seg[0][0], seg[0][1], seg[1][0], seg[1][1]
		if ly > hy {
			lx, ly, hx, hy = hx, hy, lx, ly
		}
		if y < ly || y >= hy {
			continue
		}
		if (hx-lx)*(y-ly)-(hy-ly)*(x-lx) > 0 {
			inside = !inside
		}
	}
	return inside
}

// onBoundary reports whether (x, y) lies on one of the polygon's edges
// (closed-set semantics, as PostGIS ST_Covers has them).
func (p *preparedPoly) onBoundary(x, y float64) bool {
	if x < p.minX || x > p.maxX || y < p.minY || y > p.maxY {
		return false
	}
	pts := p.pts
	for ri := 0; ri+1 < len(p.ringStart); ri++ {
		for e := p.ringStart[ri]; e+1 < p.ringStart[ri+1]; e++ {
			a, c := pts[e], pts[e+1]
			if x < math.Min(a[0], c[0]) || x > math.Max(a[0], c[0]) ||
				y < math.Min(a[1], c[1]) || y > math.Max(a[1], c[1]) {
				continue
			}
			if (c[0]-a[0])*(y-a[1])-(c[1]-a[1])*(x-a[0]) == 0 {
				return true
			}
		}
	}
	return false
}

// covers is the closed test: inside or on the boundary.
func (p *preparedPoly) covers(x, y float64) bool {
	return p.claims(x, y) || p.onBoundary(x, y)
}

// distance2 is the squared distance in a local plane where one degree of
// longitude is kx units, to the polygon's boundary (zero inside).
func (p *preparedPoly) distanceM(x, y, kx, ky float64) float64 {
	if p.covers(x, y) {
		return 0
	}
	best := math.Inf(1)
	pts := p.pts
	for ri := 0; ri+1 < len(p.ringStart); ri++ {
		for e := p.ringStart[ri]; e+1 < p.ringStart[ri+1]; e++ {
			ax, ay := (pts[e][0]-x)*kx, (pts[e][1]-y)*ky
			bx, by := (pts[e+1][0]-x)*kx, (pts[e+1][1]-y)*ky
			dx, dy := bx-ax, by-ay
			t := 0.0
			if l := dx*dx + dy*dy; l > 0 {
				t = -(ax*dx + ay*dy) / l
				t = math.Max(0, math.Min(1, t))
			}
			cx, cy := ax+t*dx, ay+t*dy
			if d := cx*cx + cy*cy; d < best {
				best = d
			}
		}
	}
	return math.Sqrt(best)
}
