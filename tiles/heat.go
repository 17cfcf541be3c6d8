package tiles

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// HeatOptions tune the heat layer. Zero values take the defaults.
type HeatOptions struct {
	// CellPx is the cell side in nominal pixels of a 256-px tile, a power
	// of two from 1 to 256 (default 16). Cells are quadtree cells, so a
	// cell never straddles two tiles and counts agree across zooms.
	CellPx int
	// MinCount leaves out cells with fewer incidents (k-anonymity for
	// public viewers; 0 or 1 keeps every non-empty cell).
	MinCount int
	// Points emits each cell as a point at its centre, for heatmap styles,
	// with cells of a BufferPx margin so the blur crosses tile edges
	// unbroken. Otherwise cells are squares (no margin needed).
	Points bool
	// BufferPx is the margin for Points, in nominal pixels (default 64).
	BufferPx float64
	// MaxFeatures caps the features of one tile (default 10,000; the
	// highest counts win).
	MaxFeatures int
}

func (o HeatOptions) withDefaults() (HeatOptions, error) {
	if o.CellPx == 0 {
		o.CellPx = 16
	}
	if o.CellPx < 1 || o.CellPx > pixelsPerTile || o.CellPx&(o.CellPx-1) != 0 {
		return o, fmt.Errorf("heat cell size %d px: want a power of two from 1 to %d", o.CellPx, pixelsPerTile)
	}
	if o.BufferPx <= 0 {
		o.BufferPx = 64
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 10000
	}
	return o, nil
}

// RenderHeat draws tile t of the heat layer: the incidents that pass f,
// counted in square cells of o.CellPx pixels. Each feature carries count
// and density (incidents per km²). The result is an encoded tile, empty
// when no cell qualifies.
func (ix *PointIndex) RenderHeat(t TileID, f PointFilter, o HeatOptions) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	s := ix.snap.Load()
	cf := compileFilter(f, s)
	sub := uint32(bits.TrailingZeros(uint(pixelsPerTile / o.CellPx)))
	var pad int64
	if o.Points {
		pad = int64(math.Ceil(o.BufferPx / float64(o.CellPx)))
	}
	r := tileCells(t, sub, pad)
	w := r.x1 - r.x0
	counts := make([]int32, w*(r.y1-r.y0))
	if !cf.none {
		s.countCells(r, &cf, counts)
	}

	minCount := int32(max(1, o.MinCount))
	type cell struct {
		idx   int
		count int32
	}
	var cells []cell
	for i, c := range counts {
		if c >= minCount {
			cells = append(cells, cell{i, c})
		}
	}
	if len(cells) > o.MaxFeatures {
		// Keep the highest counts; ties by position, for stable bytes.
		slices.SortFunc(cells, func(a, b cell) int {
			if c := cmp.Compare(b.count, a.count); c != 0 {
				return c
			}
			return cmp.Compare(a.idx, b.idx)
		})
		cells = cells[:o.MaxFeatures]
	}

	lw := newLayerWriter(LayerHeat)
	n := int64(1) << sub
	unit := int64(o.CellPx) * unitsPerPixel
	cellWorld := 1 / float64(uint64(1)<<r.lv)
	var sq [4]ipoint
	for _, c := range cells {
		cx, cy := r.x0+int64(c.idx)%w, r.y0+int64(c.idx)/w
		x0 := int32((cx - int64(t.X)*n) * unit)
		y0 := int32((cy - int64(t.Y)*n) * unit)
		x1, y1 := x0+int32(unit), y0+int32(unit)
		if o.Points {
			lw.geom.point((x0+x1)/2, (y0+y1)/2)
		} else {
			// Positive surveyor's area in tile coordinates: an exterior.
			sq = [4]ipoint{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
			lw.geom.ring(sq[:])
		}
		side := cellWorld * metresPerWorldUnit((float64(cy)+0.5)*cellWorld) / 1000
		lw.prop("count", intValue(int64(c.count)))
		lw.prop("density", doubleValue(math.Round(float64(c.count)/(side*side)*1000)/1000))
		typ := uint32(geomPolygon)
		if o.Points {
			typ = geomPoint
		}
		lw.commit(0, false, typ)
	}
	return encodeTile(lw)
}

// countCells adds the points passing cf to counts, one slot per cell of r
// in row-major order.
func (s *pointSnapshot) countCells(r cellRect, cf *compiledFilter, counts []int32) {
	w := r.x1 - r.x0
	main := &s.main
	s.eachCell(r, func(cx, cy uint32, lo, hi int) {
		slot := (int64(cy)-r.y0)*w + int64(cx) - r.x0
		if cf.all {
			counts[slot] += int32(hi - lo)
			return
		}
		counts[slot] += cf.count(main, lo, hi)
	})
	tail := &s.tail
	for i, k := range tail.keys {
		if cx, cy, ok := r.cellOf(k); ok && cf.match(tail, i) {
			counts[(int64(cy)-r.y0)*w+int64(cx)-r.x0]++
		}
	}
}
