package topo

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
)

// xy is a projected point in metres.
type xy struct{ x, y float64 }

func less(a, b xy) bool { return a.x < b.x || (a.x == b.x && a.y < b.y) }

// ring is a closed ring without its closing vertex.
type ring []xy

// polygon is a shell followed by its holes, the shell counter-clockwise and
// the holes clockwise whatever the input winding, so that the interior is
// always on the left of every directed edge.
type polygon []ring

type box struct{ minX, minY, maxX, maxY float64 }

func emptyBox() box {
	return box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

func (b *box) extend(p xy) {
	b.minX = math.Min(b.minX, p.x)
	b.minY = math.Min(b.minY, p.y)
	b.maxX = math.Max(b.maxX, p.x)
	b.maxY = math.Max(b.maxY, p.y)
}

func (b box) empty() bool { return !(b.minX <= b.maxX && b.minY <= b.maxY) }

func (b box) intersects(o box) bool {
	return b.minX <= o.maxX && o.minX <= b.maxX && b.minY <= o.maxY && o.minY <= b.maxY
}

func (b box) intersect(o box) box {
	return box{math.Max(b.minX, o.minX), math.Max(b.minY, o.minY), math.Min(b.maxX, o.maxX), math.Min(b.maxY, o.maxY)}
}

func (b box) contains(p xy) bool {
	return p.x >= b.minX && p.x <= b.maxX && p.y >= b.minY && p.y <= b.maxY
}

func (b box) min() [2]float64 { return [2]float64{b.minX, b.minY} }
func (b box) max() [2]float64 { return [2]float64{b.maxX, b.maxY} }

// shape is a grid geometry in projected coordinates.
type shape struct {
	polys []polygon
	box   box
}

// errGeometry is a structural defect found while converting a geometry.
var errGeometry = errors.New("invalid geometry")

// newShape converts a lon/lat multipolygon. Closing vertices and
// consecutive repeated vertices are dropped and rings re-wound; a
// structural defect (a ring of fewer than three distinct vertices, a
// coordinate that is not finite) is returned as an error wrapping
// errGeometry, together with the best shape that could be made.
func newShape(mp orb.MultiPolygon, fwd func(orb.Point) xy) (shape, error) {
	s := shape{box: emptyBox()}
	var firstErr error
	fail := func(format string, args ...any) {
		if firstErr == nil {
			firstErr = fmt.Errorf("%w: "+format, append([]any{errGeometry}, args...)...)
		}
	}
	for pi, p := range mp {
		var poly polygon
		for ri, r := range p {
			rr := make(ring, 0, len(r))
			for _, pt := range r {
				if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
					fail("polygon %d ring %d has a non-finite coordinate", pi, ri)
					continue
				}
				q := fwd(pt)
				if len(rr) > 0 && rr[len(rr)-1] == q {
					continue
				}
				rr = append(rr, q)
			}
			for len(rr) > 1 && rr[len(rr)-1] == rr[0] {
				rr = rr[:len(rr)-1]
			}
			if len(rr) < 3 {
				fail("polygon %d ring %d has fewer than 3 distinct vertices", pi, ri)
				if ri == 0 {
					break
				}
				continue
			}
			a := ringArea(rr)
			if (ri == 0) != (a > 0) {
				reverse(rr)
			}
			poly = append(poly, rr)
		}
		if len(poly) > 0 {
			s.polys = append(s.polys, poly)
		}
	}
	for _, p := range s.polys {
		for _, v := range p[0] {
			s.box.extend(v)
		}
	}
	if len(s.polys) == 0 && firstErr == nil {
		firstErr = fmt.Errorf("%w: empty geometry", errGeometry)
	}
	return s, firstErr
}

func reverse(r ring) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

// ringArea is the signed planar area, positive counter-clockwise.
func ringArea(r ring) float64 {
	n := len(r)
	var area float64
	for i := range n {
		a, b := r[i], r[(i+1)%n]
		area += a.x*b.y - b.x*a.y
	}
	return area / 2
}

// areaM2 is the ellipsoidal area of the shape.
func (s shape) areaM2(p projection) float64 {
	var total float64
	for _, poly := range s.polys {
		total += poly.areaM2(p)
	}
	return total
}

// areaM2 is the ellipsoidal area of one polygon: its shell minus its holes
// (which are wound clockwise and so count negative).
func (poly polygon) areaM2(p projection) float64 {
	var a float64
	for _, r := range poly {
		a += p.ringAreaM2(r)
	}
	return a
}

// perimeterM is the length of every ring of the shape, holes included.
func (s shape) perimeterM(p projection) float64 {
	var l float64
	for _, poly := range s.polys {
		for _, r := range poly {
			for i := range r {
				l += p.segmentLength(r[i], r[(i+1)%len(r)])
			}
		}
	}
	return l
}

// segments calls fn for every directed edge of the shape.
func (s shape) segments(fn func(a, b xy)) {
	for _, poly := range s.polys {
		for _, r := range poly {
			n := len(r)
			for i := range n {
				fn(r[i], r[(i+1)%n])
			}
		}
	}
}

// sf is the shape as a simplefeatures geometry.
func (s shape) sf() geom.Geometry {
	polys := make([]geom.Polygon, 0, len(s.polys))
	for _, p := range s.polys {
		rings := make([]geom.LineString, 0, len(p))
		for _, r := range p {
			c := make([]float64, 0, 2*len(r)+2)
			for _, v := range r {
				c = append(c, v.x, v.y)
			}
			c = append(c, r[0].x, r[0].y)
			rings = append(rings, geom.NewLineString(geom.NewSequence(c, geom.DimXY)))
		}
		polys = append(polys, geom.NewPolygon(rings))
	}
	if len(polys) == 1 {
		return polys[0].AsGeometry()
	}
	return geom.NewMultiPolygon(polys).AsGeometry()
}

// sfPolygons lists the polygons of an overlay result, dropping points and
// lines (the zero-area parts of an overlay).
func sfPolygons(g geom.Geometry) []geom.Polygon {
	switch g.Type() {
	case geom.TypePolygon:
		p := g.MustAsPolygon()
		if p.IsEmpty() {
			return nil
		}
		return []geom.Polygon{p}
	case geom.TypeMultiPolygon:
		return g.MustAsMultiPolygon().Dump()
	case geom.TypeGeometryCollection:
		var out []geom.Polygon
		gc := g.MustAsGeometryCollection()
		for i := range gc.NumGeometries() {
			out = append(out, sfPolygons(gc.GeometryN(i))...)
		}
		return out
	}
	return nil
}

// shapeOfSF converts simplefeatures polygons back to a shape (same plane).
func shapeOfSF(polys []geom.Polygon) shape {
	s := shape{box: emptyBox()}
	for _, p := range polys {
		var poly polygon
		for ri, ls := range p.DumpRings() {
			seq := ls.Coordinates()
			n := seq.Length()
			rr := make(ring, 0, n)
			for i := range n {
				c := seq.GetXY(i)
				q := xy{c.X, c.Y}
				if len(rr) > 0 && rr[len(rr)-1] == q {
					continue
				}
				rr = append(rr, q)
			}
			for len(rr) > 1 && rr[len(rr)-1] == rr[0] {
				rr = rr[:len(rr)-1]
			}
			if len(rr) < 3 {
				continue
			}
			a := ringArea(rr)
			if (ri == 0) != (a > 0) {
				reverse(rr)
			}
			poly = append(poly, rr)
		}
		if len(poly) > 0 {
			s.polys = append(s.polys, poly)
			for _, v := range poly[0] {
				s.box.extend(v)
			}
		}
	}
	return s
}

// orb converts the shape back to lon/lat with RFC 7946 winding.
func (s shape) orb(inv func(xy) orb.Point) orb.MultiPolygon {
	mp := make(orb.MultiPolygon, 0, len(s.polys))
	for _, p := range s.polys {
		op := make(orb.Polygon, 0, len(p))
		for _, r := range p {
			or := make(orb.Ring, 0, len(r)+1)
			for _, v := range r {
				or = append(or, inv(v))
			}
			or = append(or, or[0])
			op = append(op, or)
		}
		mp = append(mp, op)
	}
	return mp
}

// pointOnSurface is a point inside the shape (on its largest part), or
// the box centre when the overlay library cannot find one.
func (s shape) pointOnSurface() xy {
	if len(s.polys) == 0 {
		return xy{}
	}
	best, bestA := 0, math.Inf(-1)
	for i, p := range s.polys {
		a := ringArea(p[0])
		if a > bestA {
			best, bestA = i, a
		}
	}
	one := shape{polys: s.polys[best : best+1]}
	pt, ok := one.sf().PointOnSurface().XY()
	if !ok {
		return xy{(s.box.minX + s.box.maxX) / 2, (s.box.minY + s.box.maxY) / 2}
	}
	return xy{pt.X, pt.Y}
}

// contains tells whether p is inside the shape by the even–odd crossing
// rule. A point exactly on an edge may fall either way: callers use it only
// for points known to be off every edge, or where either answer is safe.
func (s shape) contains(p xy) bool {
	if !s.box.contains(p) {
		return false
	}
	in := false
	for _, poly := range s.polys {
		for _, r := range poly {
			n := len(r)
			for i := range n {
				a, b := r[i], r[(i+1)%n]
				if (a.y > p.y) != (b.y > p.y) {
					x := a.x + (p.y-a.y)*(b.x-a.x)/(b.y-a.y)
					if p.x < x {
						in = !in
					}
				}
			}
		}
	}
	return in
}
