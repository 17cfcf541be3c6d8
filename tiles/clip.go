package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// ipoint is a position in tile units (0..Extent, y down).
type ipoint struct{ x, y int32 }

// tileTransform maps world coordinates to tile units of one tile.
type tileTransform struct {
	scale, ox, oy float64
}

func newTileTransform(t TileID) tileTransform {
	n := float64(uint64(1) << t.Z)
	return tileTransform{
		scale: n * Extent,
		ox:    float64(t.X) * Extent,
		oy:    float64(t.Y) * Extent,
	}
}

func (tr tileTransform) apply(p orb.Point) orb.Point {
	return orb.Point{p[0]*tr.scale - tr.ox, p[1]*tr.scale - tr.oy}
}

// ringClipper clips rings to the square [lo, hi]² in tile units and rounds
// them to integers. Its buffers are reused from ring to ring.
type ringClipper struct {
	lo, hi float64
	a, b   []orb.Point
	out    []ipoint
}

// clip returns the ring (open: no closing point) clipped, rounded and
// oriented: positive surveyor's area in tile coordinates (y down) when
// exterior is true, negative otherwise. It returns nil when nothing with an
// area is left. The result is valid until the next call.
func (c *ringClipper) clip(ring []orb.Point, exterior bool) []ipoint {
	if len(ring) < 3 {
		return nil
	}
	b := orb.Bound{Min: ring[0], Max: ring[0]}
	for _, p := range ring[1:] {
		b = b.Extend(p)
	}
	if b.Max[0] < c.lo || b.Min[0] > c.hi || b.Max[1] < c.lo || b.Min[1] > c.hi {
		return nil
	}
	pts := ring
	if b.Min[0] < c.lo || b.Max[0] > c.hi || b.Min[1] < c.lo || b.Max[1] > c.hi {
		// Sutherland–Hodgman against each side. Concave rings may gain
		// zero-width runs along the clip edge; they lie in the buffer,
		// outside the drawn area.
		c.a = clipSide(c.a[:0], pts, 0, c.lo, false)
		c.b = clipSide(c.b[:0], c.a, 0, c.hi, true)
		c.a = clipSide(c.a[:0], c.b, 1, c.lo, false)
		c.b = clipSide(c.b[:0], c.a, 1, c.hi, true)
		pts = c.b
	}
	return c.round(pts, exterior)
}

// round quantises, drops repeated points and orients the ring.
func (c *ringClipper) round(pts []orb.Point, exterior bool) []ipoint {
	out := c.out[:0]
	for _, p := range pts {
		q := ipoint{int32(math.Floor(p[0] + 0.5)), int32(math.Floor(p[1] + 0.5))}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	c.out = out
	if len(out) < 3 {
		return nil
	}
	a := ringArea2(out)
	if a == 0 {
		return nil
	}
	if (a > 0) != exterior {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// clipSide keeps the part of the closed ring in on the inner side of the
// line coordinate[axis] = v (inner is below v when upper is true).
func clipSide(out, in []orb.Point, axis int, v float64, upper bool) []orb.Point {
	n := len(in)
	if n == 0 {
		return out
	}
	inside := func(p orb.Point) bool {
		if upper {
			return p[axis] <= v
		}
		return p[axis] >= v
	}
	prev := in[n-1]
	prevIn := inside(prev)
	for _, cur := range in {
		curIn := inside(cur)
		if curIn != prevIn {
			t := (v - prev[axis]) / (cur[axis] - prev[axis])
			var q orb.Point
			q[axis] = v
			q[1-axis] = prev[1-axis] + t*(cur[1-axis]-prev[1-axis])
			out = append(out, q)
		}
		if curIn {
			out = append(out, cur)
		}
		prev, prevIn = cur, curIn
	}
	return out
}

// ringArea2 is twice the surveyor's-formula area of an open ring in tile
// coordinates, as MVT 2.1 §4.3.4.4 defines it: positive for an exterior.
func ringArea2(r []ipoint) int64 {
	var s int64
	j := len(r) - 1
	for i := range r {
		s += int64(r[j].x)*int64(r[i].y) - int64(r[i].x)*int64(r[j].y)
		j = i
	}
	return s
}
