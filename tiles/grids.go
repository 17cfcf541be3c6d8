package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// GridLayerOptions tune the grids layer. Zero values take the defaults.
type GridLayerOptions struct {
	// MinZoom is the first zoom at which each level is drawn, indexed by
	// grids.Level. Default: district 0, street 10, community 12, grid 13,
	// so that a tile holds a few hundred polygons at most; every level
	// stays in from its first zoom on, and styles tell them apart by the
	// level property.
	MinZoom [grids.LevelGrid + 1]int
	// MaxFeatures caps the features of one tile (default 10,000). Coarser
	// levels, then larger polygons, then lower codes win.
	MaxFeatures int
	// BufferPx is the margin drawn around the tile in nominal pixels of a
	// 256-px tile (default 4).
	BufferPx float64
	// SimplifyPx is the Douglas–Peucker tolerance in nominal pixels
	// (default 0.5; a negative value turns simplification off).
	SimplifyPx float64
}

// DefaultGridMinZoom is the default first zoom of each level.
func DefaultGridMinZoom() [grids.LevelGrid + 1]int {
	return [grids.LevelGrid + 1]int{
		grids.LevelUnknown:   MaxZoom + 1,
		grids.LevelDistrict:  0,
		grids.LevelStreet:    10,
		grids.LevelCommunity: 12,
		grids.LevelGrid:      13,
	}
}

func (o GridLayerOptions) withDefaults() GridLayerOptions {
	if o.MinZoom == ([grids.LevelGrid + 1]int{}) {
		o.MinZoom = DefaultGridMinZoom()
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 10000
	}
	if o.BufferPx <= 0 {
		o.BufferPx = DefaultBufferPx(LayerGrids)
	}
	if o.SimplifyPx == 0 {
		o.SimplifyPx = 0.5
	}
	return o
}

// GridLayer draws the grids layer. It is built once per grid set and is
// safe for concurrent use; it copies what it needs and never changes the
// grids it was given.
type GridLayer struct {
	opts   GridLayerOptions
	grids  []gridEntry
	byCode map[string]int32
	topo   [grids.LevelGrid + 1]*topology
	tree   rtree.RTreeGN[float64, int32]
}

type gridEntry struct {
	code, name string
	level      grids.Level
	id         uint64
	hasID      bool
	lonLat     orb.Bound // for invalidation
	world      orb.Bound
	area       float64      // projected area in world units², holes removed
	polygons   [][][]arcRef // polygon → rings (exterior first) → arcs
}

// NewGridLayer prepares grids for tiling: projects them, cuts each level's
// rings into shared arcs and indexes their bounds.
func NewGridLayer(gs []*grids.Grid, opts GridLayerOptions) (*GridLayer, error) {
	l := &GridLayer{
		opts:   opts.withDefaults(),
		byCode: make(map[string]int32, len(gs)),
	}
	var levelRings [grids.LevelGrid + 1][][]orb.Point
	type ringSlot struct{ grid, poly, ring int }
	var levelSlots [grids.LevelGrid + 1][]ringSlot
	for _, g := range gs {
		if g.Level < grids.LevelDistrict || g.Level > grids.LevelGrid {
			return nil, fmt.Errorf("tile grids: grid %q has unknown level %d", g.Code, g.Level)
		}
		if _, dup := l.byCode[g.Code]; dup {
			return nil, fmt.Errorf("tile grids: duplicate grid code %q", g.Code)
		}
		e := gridEntry{code: g.Code, name: g.Name, level: g.Level}
		if id, err := strconv.ParseUint(g.Code, 10, 64); err == nil {
			e.id, e.hasID = id, true
		}
		gi := len(l.grids)
		first := true
		for _, poly := range g.Geometry {
			var rings [][]arcRef
			for ri, ring := range poly {
				open := openRing(ring)
				if len(open) < 3 {
					if ri == 0 {
						break // a polygon without an exterior has nothing to draw
					}
					continue
				}
				for _, p := range open {
					if first {
						e.lonLat = orb.Bound{Min: p, Max: p}
						first = false
					}
					e.lonLat = e.lonLat.Extend(p)
				}
				levelRings[g.Level] = append(levelRings[g.Level], open)
				levelSlots[g.Level] = append(levelSlots[g.Level], ringSlot{gi, len(e.polygons), len(rings)})
				rings = append(rings, nil)
			}
			if len(rings) > 0 {
				e.polygons = append(e.polygons, rings)
			}
		}
		if first {
			continue // no drawable geometry
		}
		// The projection is monotonic in lon and in lat: corners suffice.
		e.world = worldBoundOf(e.lonLat)
		l.byCode[g.Code] = int32(gi)
		l.grids = append(l.grids, e)
	}
	for lv := grids.LevelDistrict; lv <= grids.LevelGrid; lv++ {
		topo, refs := buildTopology(levelRings[lv], l.opts.SimplifyPx)
		l.topo[lv] = topo
		for i, s := range levelSlots[lv] {
			l.grids[s.grid].polygons[s.poly][s.ring] = refs[i]
		}
	}
	var ring []orb.Point
	for i := range l.grids {
		e := &l.grids[i]
		for _, poly := range e.polygons {
			for ri, refs := range poly {
				ring = l.topo[e.level].rawRing(ring[:0], refs)
				if a := math.Abs(planarArea(ring)); ri == 0 {
					e.area += a
				} else {
					e.area -= a
				}
			}
		}
	}
	for i := range l.grids {
		b := l.grids[i].world
		l.tree.Insert(b.Min, b.Max, int32(i))
	}
	return l, nil
}

// openRing drops the closing point and repeated vertices of a ring. The
// result may share memory with r; it is only read.
func openRing(r orb.Ring) []orb.Point {
	clean := true
	for i := 1; i < len(r) && clean; i++ {
		clean = r[i] != r[i-1]
	}
	if clean {
		if len(r) > 1 && r[len(r)-1] == r[0] {
			return r[: len(r)-1 : len(r)-1]
		}
		return r
	}
	out := make([]orb.Point, 0, len(r))
	for _, p := range r {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	return out
}

// planarArea is the signed shoelace area of an open ring.
func planarArea(r []orb.Point) float64 {
	var s float64
	j := len(r) - 1
	for i := range r {
		s += r[j][0]*r[i][1] - r[i][0]*r[j][1]
		j = i
	}
	return s / 2
}

// Bound returns the lon/lat bounds of a grid, for cache invalidation when
// its counts or geometry change.
func (l *GridLayer) Bound(code string) (orb.Bound, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return orb.Bound{}, false
	}
	return l.grids[i].lonLat, true
}

// Len is the number of grids with drawable geometry.
func (l *GridLayer) Len() int { return len(l.grids) }

// Render draws tile t of the grids layer. Each feature carries code, name,
// level and, when counts is not nil, count (counts[code], 0 when absent;
// see RollUpCounts for the upper levels). With levels given, only those
// levels are drawn, at every zoom; otherwise each level from its MinZoom
// on. Polygons smaller than a pixel at this zoom are left out. The result
// is an encoded tile, empty when nothing falls in it.
func (l *GridLayer) Render(t TileID, counts map[string]int, levels ...grids.Level) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var want [grids.LevelGrid + 1]bool
	for _, lv := range levels {
		if lv >= grids.LevelDistrict && lv <= grids.LevelGrid {
			want[lv] = true
		}
	}
	if len(levels) == 0 {
		for lv := grids.LevelDistrict; lv <= grids.LevelGrid; lv++ {
			want[lv] = int(t.Z) >= l.opts.MinZoom[lv]
		}
	}

	px := 1 / float64(uint64(pixelsPerTile)<<t.Z)
	minArea := px * px
	wb := t.worldBound(l.opts.BufferPx)
	var cand []int32
	l.tree.Search(wb.Min, wb.Max, func(_, _ [2]float64, i int32) bool {
		e := &l.grids[i]
		if want[e.level] && e.area >= minArea {
			cand = append(cand, i)
		}
		return true
	})
	slices.SortFunc(cand, func(a, b int32) int {
		ea, eb := &l.grids[a], &l.grids[b]
		if c := cmp.Compare(ea.level, eb.level); c != 0 {
			return c
		}
		if c := cmp.Compare(eb.area, ea.area); c != 0 {
			return c
		}
		return cmp.Compare(ea.code, eb.code)
	})

	lw := newLayerWriter(LayerGrids)
	tr := newTileTransform(t)
	buf := l.opts.BufferPx * unitsPerPixel
	clipper := &ringClipper{lo: -buf, hi: Extent + buf}
	var ring []orb.Point
	for _, gi := range cand {
		if lw.count >= l.opts.MaxFeatures {
			break
		}
		e := &l.grids[gi]
		topo := l.topo[e.level]
		for _, poly := range e.polygons {
			for ri, refs := range poly {
				ring = topo.ring(ring[:0], refs, t.Z)
				for i, p := range ring {
					ring[i] = tr.apply(p)
				}
				out := clipper.clip(ring, ri == 0)
				if out == nil {
					if ri == 0 {
						break // exterior gone: its holes go with it
					}
					continue
				}
				lw.geom.ring(out)
			}
		}
		lw.prop("code", stringValue(e.code))
		lw.prop("name", stringValue(e.name))
		lw.prop("level", stringValue(e.level.String()))
		if counts != nil {
			lw.prop("count", intValue(int64(counts[e.code])))
		}
		lw.commit(e.id, e.hasID, geomPolygon)
	}
	return encodeTile(lw)
}

// RollUpCounts adds the counts of grid codes to every ancestor's code, by
// the DB11/T 2157-2023 prefixes (district 6, street 9, community 12
// digits), so that the upper levels of the grids layer show totals.
func RollUpCounts(leaf map[string]int) map[string]int {
	out := make(map[string]int, len(leaf)*2)
	for code, n := range leaf {
		out[code] += n
		for lv := grids.LevelDistrict; lv < grids.LevelGrid; lv++ {
			k := lv.CodeLen()
			if len(code) > k {
				out[code[:k]] += n
			}
		}
	}
	return out
}
