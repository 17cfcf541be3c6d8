package tiles

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// IncidentAttrs are the attributes the incidents layer shows for a single
// incident.
type IncidentAttrs struct {
	ID       int64
	Category string
	Status   string
	Grid     string // empty when unassigned
}

// AttrSource looks up the current attributes of an incident by the Row it
// was indexed with. It is read at render time, so status changes show
// without reindexing (the cache still needs an Invalidate).
type AttrSource interface {
	IncidentAttrs(row uint32) (IncidentAttrs, bool)
}

// IncidentOptions tune the incidents layer. Zero values take the defaults.
type IncidentOptions struct {
	// ClusterBelowZoom: tiles under this zoom show clusters, tiles at or
	// above it single incidents (default 14; negative: never cluster).
	ClusterBelowZoom int
	// ClusterPx is the side of a cluster cell in nominal pixels, a power of
	// two from 1 to 256 (default 64). Cells are quadtree cells, so each
	// cluster belongs to exactly one tile and looks the same in its
	// neighbours' buffers.
	ClusterPx int
	// BufferPx is the margin around the tile in nominal pixels (default
	// 64), so that symbols near an edge are drawn whole.
	BufferPx float64
	// MaxFeatures caps the features of one tile (default 10,000). Past the
	// cap, single incidents are thinned by a hash of their row, which keeps
	// the choice deterministic and spread over the tile.
	MaxFeatures int
}

func (o IncidentOptions) withDefaults() (IncidentOptions, error) {
	if o.ClusterBelowZoom == 0 {
		o.ClusterBelowZoom = 14
	}
	if o.ClusterPx == 0 {
		o.ClusterPx = 64
	}
	if o.ClusterPx < 1 || o.ClusterPx > pixelsPerTile || o.ClusterPx&(o.ClusterPx-1) != 0 {
		return o, fmt.Errorf("cluster cell size %d px: want a power of two from 1 to %d", o.ClusterPx, pixelsPerTile)
	}
	if o.BufferPx <= 0 {
		o.BufferPx = DefaultBufferPx(LayerIncidents)
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 10000
	}
	return o, nil
}

// RenderIncidents draws tile t of the incidents layer for the incidents
// passing f. Under o.ClusterBelowZoom each feature is a cluster: a point at
// the centroid of the incidents of one cluster cell, with their count.
// From that zoom on each feature is one incident with id, category, status
// and grid (from attrs; incidents attrs does not know are left out; with
// attrs nil only category). The result is an encoded tile, empty when
// nothing falls in it.
func (ix *PointIndex) RenderIncidents(t TileID, f PointFilter, attrs AttrSource, o IncidentOptions) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	s := ix.snap.Load()
	cf := compileFilter(f, s)
	sub := uint32(bits.TrailingZeros(uint(pixelsPerTile / o.ClusterPx)))
	r := tileCells(t, sub, int64(math.Ceil(o.BufferPx/float64(o.ClusterPx))))
	lw := newLayerWriter(LayerIncidents)
	if !cf.none {
		if int(t.Z) < o.ClusterBelowZoom {
			s.clusters(lw, t, r, &cf, o.MaxFeatures)
		} else {
			s.singles(lw, t, r, &cf, attrs, o.MaxFeatures)
		}
	}
	return encodeTile(lw)
}

type cluster struct {
	slot       int64
	count      int64
	sumX, sumY uint64 // quantised world coordinates (< 2³¹ each)
}

func (s *pointSnapshot) clusters(lw *layerWriter, t TileID, r cellRect, cf *compiledFilter, maxFeatures int) {
	w := r.x1 - r.x0
	acc := make([]cluster, w*(r.y1-r.y0))
	add := func(slot int64, k uint64) {
		x, y := keyXY(k)
		c := &acc[slot]
		c.count++
		c.sumX += uint64(x)
		c.sumY += uint64(y)
	}
	main := &s.main
	s.eachCell(r, func(cx, cy uint32, lo, hi int) {
		c := &acc[(int64(cy)-r.y0)*w+int64(cx)-r.x0]
		if cf.all {
			for _, k := range main.keys[lo:hi] {
				x, y := keyXY(k)
				c.sumX += uint64(x)
				c.sumY += uint64(y)
			}
			c.count += int64(hi - lo)
			return
		}
		// Weighted by the filter outcome rather than branching on it.
		for i := lo; i < hi; i++ {
			in := uint64(b2i(cf.match(main, i)))
			x, y := keyXY(main.keys[i])
			c.sumX += uint64(x) * in
			c.sumY += uint64(y) * in
			c.count += int64(in)
		}
	})
	tail := &s.tail
	for i, k := range tail.keys {
		if cx, cy, ok := r.cellOf(k); ok && cf.match(tail, i) {
			add((int64(cy)-r.y0)*w+int64(cx)-r.x0, k)
		}
	}
	var out []cluster
	for i, c := range acc {
		if c.count > 0 {
			c.slot = int64(i)
			out = append(out, c)
		}
	}
	if len(out) > maxFeatures {
		slices.SortFunc(out, func(a, b cluster) int {
			if c := cmp.Compare(b.count, a.count); c != 0 {
				return c
			}
			return cmp.Compare(a.slot, b.slot)
		})
		out = out[:maxFeatures]
	}
	for _, c := range out {
		x := uint32(c.sumX / uint64(c.count))
		y := uint32(c.sumY / uint64(c.count))
		lw.geom.point(keyToTile(x, t.Z, t.X), keyToTile(y, t.Z, t.Y))
		lw.prop("count", intValue(c.count))
		lw.commit(0, false, geomPoint)
	}
}

type single struct {
	key uint64
	row uint32
	cat uint16
}

func (s *pointSnapshot) singles(lw *layerWriter, t TileID, r cellRect, cf *compiledFilter, attrs AttrSource, maxFeatures int) {
	var pts []single
	main := &s.main
	s.eachCell(r, func(_, _ uint32, lo, hi int) {
		for i := lo; i < hi; i++ {
			if cf.all || cf.match(main, i) {
				pts = append(pts, single{main.keys[i], main.rows[i], main.cats[i]})
			}
		}
	})
	tail := &s.tail
	for i, k := range tail.keys {
		if _, _, ok := r.cellOf(k); ok && cf.match(tail, i) {
			pts = append(pts, single{k, tail.rows[i], tail.cats[i]})
		}
	}
	if len(pts) > maxFeatures {
		slices.SortFunc(pts, func(a, b single) int {
			if c := cmp.Compare(mix64(uint64(a.row)), mix64(uint64(b.row))); c != 0 {
				return c
			}
			return cmp.Compare(a.key, b.key)
		})
		pts = pts[:maxFeatures]
	}
	// One order whatever part of the index (sorted run or tail) holds them.
	slices.SortFunc(pts, func(a, b single) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
	for _, p := range pts {
		x, y := keyXY(p.key)
		lw.geom.point(keyToTile(x, t.Z, t.X), keyToTile(y, t.Z, t.Y))
		if attrs == nil {
			lw.prop("category", stringValue(s.cats[p.cat]))
			lw.commit(0, false, geomPoint)
			continue
		}
		a, ok := attrs.IncidentAttrs(p.row)
		if !ok {
			lw.tags = lw.tags[:0]
			lw.geom.reset()
			continue
		}
		lw.prop("id", intValue(a.ID))
		lw.prop("category", stringValue(a.Category))
		lw.prop("status", stringValue(a.Status))
		if a.Grid != "" {
			lw.prop("grid", stringValue(a.Grid))
		}
		lw.commit(uint64(a.ID), a.ID >= 0, geomPoint)
	}
}

// mix64 is the splitmix64 finaliser: a fixed, well-spread hash.
func mix64(v uint64) uint64 {
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	v ^= v >> 31
	return v
}
