package tiles

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// HotCell is one Gi* cell as the hotspot analysis returns it.
type HotCell struct {
	Bound orb.Bound // lon/lat
	Count int
	Z, P  float64
	Bin   int8 // −3…3 after FDR
}

// HotspotOptions tune the hotspots layer. Zero values take the defaults.
type HotspotOptions struct {
	// MinCount leaves out cells with fewer incidents (k-anonymity for
	// public viewers).
	MinCount int
	// OmitInsignificant leaves out cells of bin 0.
	OmitInsignificant bool
	// MaxFeatures caps the features of one tile (default 10,000; cells of
	// larger |bin|, then larger |z|, win).
	MaxFeatures int
	// BufferPx is the margin around the tile in nominal pixels (default 4).
	BufferPx float64
}

// HotspotLayer draws one hotspot result as the hotspots layer. Build it once
// per result; it is safe for concurrent use.
type HotspotLayer struct {
	cells []hotEntry
	tree  rtree.RTreeGN[float64, int32]
}

type hotEntry struct {
	cell  HotCell
	world orb.Bound
}

// NewHotspotLayer indexes cells (copied).
func NewHotspotLayer(cells []HotCell) *HotspotLayer {
	l := &HotspotLayer{cells: make([]hotEntry, len(cells))}
	for i, c := range cells {
		w := worldBoundOf(c.Bound)
		l.cells[i] = hotEntry{cell: c, world: w}
		l.tree.Insert(w.Min, w.Max, int32(i))
	}
	return l
}

// Render draws tile t: each cell a square with count, z, p and bin (z and
// p left out when not a number). The result is an encoded tile, empty when
// no cell qualifies.
func (l *HotspotLayer) Render(t TileID, o HotspotOptions) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 10000
	}
	if o.BufferPx <= 0 {
		o.BufferPx = DefaultBufferPx(LayerHotspots)
	}
	wb := t.worldBound(o.BufferPx)
	var cand []int32
	l.tree.Search(wb.Min, wb.Max, func(_, _ [2]float64, i int32) bool {
		c := &l.cells[i].cell
		if c.Count >= o.MinCount && (c.Bin != 0 || !o.OmitInsignificant) {
			cand = append(cand, i)
		}
		return true
	})
	slices.SortFunc(cand, func(a, b int32) int {
		ca, cb := &l.cells[a].cell, &l.cells[b].cell
		if c := cmp.Compare(absInt8(cb.Bin), absInt8(ca.Bin)); c != 0 {
			return c
		}
		if c := cmp.Compare(absZ(cb.Z), absZ(ca.Z)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	lw := newLayerWriter(LayerHotspots)
	tr := newTileTransform(t)
	buf := o.BufferPx * unitsPerPixel
	clipper := &ringClipper{lo: -buf, hi: Extent + buf}
	var sq [4]orb.Point
	for _, i := range cand {
		if lw.count >= o.MaxFeatures {
			break
		}
		e := &l.cells[i]
		p0 := tr.apply(e.world.Min)
		p1 := tr.apply(e.world.Max)
		sq = [4]orb.Point{p0, {p1[0], p0[1]}, p1, {p0[0], p1[1]}}
		ring := clipper.clip(sq[:], true)
		if ring == nil {
			continue
		}
		lw.geom.ring(ring)
		c := &e.cell
		lw.prop("count", intValue(int64(c.Count)))
		if !math.IsNaN(c.Z) && !math.IsInf(c.Z, 0) {
			lw.prop("z", doubleValue(c.Z))
		}
		if !math.IsNaN(c.P) {
			lw.prop("p", doubleValue(c.P))
		}
		lw.prop("bin", intValue(int64(c.Bin)))
		lw.commit(0, false, geomPolygon)
	}
	return encodeTile(lw)
}

func absInt8(v int8) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// absZ orders NaN last.
func absZ(z float64) float64 {
	if math.IsNaN(z) {
		return -1
	}
	return math.Abs(z)
}
