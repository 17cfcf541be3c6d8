package grids

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// MatchStatus says how a point was assigned.
type MatchStatus uint8

const (
	// Unassigned: outside every grid and farther than the snap distance.
	Unassigned MatchStatus = iota
	// Inside: the point lies in the grid (its boundary rule included).
	Inside
	// Snapped: outside every grid but within the snap distance of this one.
	Snapped
)

func (s MatchStatus) String() string {
	switch s {
	case Inside:
		return "inside"
	case Snapped:
		return "snapped"
	default:
		return "unassigned"
	}
}

// Match is the answer of a geocode.
type Match struct {
	Grid      *Grid // nil when unassigned
	Status    MatchStatus
	DistanceM float64 // distance to the grid when snapped
}

// Index geocodes points to the leaf grids of one set. It is immutable once
// built and safe for concurrent use.
//
// Lookup goes box first, exact geometry second (as tile38 does): an R-tree
// over the leaves' boxes (float32, rounded outward) answers general queries
// and snapping; for the hot path a uniform table of cells, filled from the
// same boxes, lists each cell's candidates, and marks the cells that no grid
// edge crosses with their single owner. A cell that edges cross is cut into
// 8×8 sub-cells, half a byte each, which give the owner of every sub-cell
// no edge meets. On the demo city more than nine points in ten then need no
// polygon test at all.
//
// Boundary rule: a point on an edge or vertex shared by several grids
// belongs to the grid that contains the point nudged infinitesimally east,
// then north (p + (ε, ε²)). A point on the jurisdiction's outer boundary,
// which no nudge keeps inside, belongs to the covering grid with the
// smallest code. The rule is deterministic and gives every point of the
// jurisdiction exactly one grid. Where grids overlap (a set that fails
// validation, which publishing refuses unless forced) a point in the
// overlap gets one of them, always the same one for the same set.
type Index struct {
	set    *Set
	leaves []*Grid // sorted by code; a leaf's id is its position
	polys  []preparedPoly
	byCode map[string]*Grid
	tree   rtree.RTreeGN[float32, int32]

	// The cell table.
	minX, minY, invW, invH float64
	nx, ny                 int
	codes                  []byte // leaf codes back to back, for fast output
	codeStart              []int32
	cells                  []uint32 // see buildCells
	cellCand               []uint32
	cellSub                []byte // sub-cell blocks of edge cells, see buildCells
}

const (
	sureBit = 1 << 31
	noCell  = 1<<32 - 1

	// An edge cell is cut into subSide×subSide sub-cells, each a nibble in
	// its block: subAny (edges cross it: test the candidates), subNone (no
	// grid), or the position in the cell's candidate list of its owner.
	subBits  = 3
	subSide  = 1 << subBits
	subBlock = subSide * subSide / 2 // bytes
	subAny   = 14
	subNone  = 15
	subAll   = 1<<(subSide*subSide) - 1 // every sub-cell's bit
)

// The sub-cells with a west neighbour, and those with an east one.
var notFirstCol, notLastCol = func() (w, e uint64) {
	for s := 0; s < subSide*subSide; s++ {
		if s%subSide != 0 {
			w |= 1 << s
		}
		if s%subSide != subSide-1 {
			e |= 1 << s
		}
	}
	return
}()

// IndexOptions tune the cell table.
type IndexOptions struct {
	// CellsPerGrid is the table's size relative to the number of leaves
	// (default 16). More cells mean more sure cells and more memory.
	CellsPerGrid float64
}

// NewIndex prepares a set's leaf grids for geocoding.
func NewIndex(set *Set, opt IndexOptions) (*Index, error) {
	if set == nil {
		return nil, errors.New("new index: nil set")
	}
	if opt.CellsPerGrid <= 0 {
		opt.CellsPerGrid = 16
	}
	ix := &Index{set: set, byCode: set.ByCode()}
	for _, g := range set.Grids {
		if g.Level == LevelGrid {
			ix.leaves = append(ix.leaves, g)
		}
	}
	if len(ix.leaves) >= sureBit-1 {
		return nil, fmt.Errorf("new index: %d grids is too many", len(ix.leaves))
	}
	sort.Slice(ix.leaves, func(i, j int) bool { return ix.leaves[i].Code < ix.leaves[j].Code })
	ix.polys = make([]preparedPoly, len(ix.leaves))
	// Rings are prepared in parallel; the R-tree is filled in order after.
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(ix.leaves); i += workers {
				ix.polys[i] = preparePoly(ix.leaves[i].Geometry)
			}
		}(w)
	}
	wg.Wait()
	total := 0
	for i, g := range ix.leaves {
		p := &ix.polys[i]
		if p.minX > p.maxX {
			return nil, fmt.Errorf("new index: grid %s has no geometry", g.Code)
		}
		ix.tree.Insert(down32(p.minX, p.minY), up32(p.maxX, p.maxY), int32(i))
		total += len(p.pts)
	}
	ix.codeStart = make([]int32, 0, len(ix.leaves)+1)
	for _, g := range ix.leaves {
		ix.codeStart = append(ix.codeStart, int32(len(ix.codes)))
		ix.codes = append(ix.codes, g.Code...)
	}
	ix.codeStart = append(ix.codeStart, int32(len(ix.codes)))
	// All vertices in one slab, in code order (neighbouring grids have
	// neighbouring codes): a batch walking the city tile by tile then reads
	// memory mostly in sequence instead of chasing each ring's allocation.
	slab := make([]orb.Point, 0, total)
	for i := range ix.polys {
		p := &ix.polys[i]
		start := len(slab)
		slab = append(slab, p.pts...)
		p.pts = slab[start:len(slab):len(slab)]
	}
	ix.buildCells(opt.CellsPerGrid)
	return ix, nil
}

func down32(x, y float64) [2]float32 {
	return [2]float32{
		math.Nextafter32(float32(x), float32(math.Inf(-1))),
		math.Nextafter32(float32(y), float32(math.Inf(-1))),
	}
}

func up32(x, y float64) [2]float32 {
	return [2]float32{
		math.Nextafter32(float32(x), float32(math.Inf(1))),
		math.Nextafter32(float32(y), float32(math.Inf(1))),
	}
}

// Set is the grid set the index was built from.
func (ix *Index) Set() *Set { return ix.set }

// Len is the number of leaf grids.
func (ix *Index) Len() int { return len(ix.leaves) }

// Grid looks a grid of any level up by code.
func (ix *Index) Grid(code string) *Grid { return ix.byCode[code] }

// Ancestors lists a grid's parent chain, nearest first.
func (ix *Index) Ancestors(g *Grid) []*Grid {
	var out []*Grid
	for g != nil && g.Parent != "" {
		p := ix.byCode[g.Parent]
		if p == nil {
			break
		}
		out = append(out, p)
		g = p
	}
	return out
}

func (ix *Index) cellRange(minX, minY, maxX, maxY float64) (x0, y0, x1, y1 int) {
	x0 = clampCell((minX-ix.minX)*ix.invW, ix.nx)
	x1 = clampCell((maxX-ix.minX)*ix.invW, ix.nx)
	y0 = clampCell((minY-ix.minY)*ix.invH, ix.ny)
	y1 = clampCell((maxY-ix.minY)*ix.invH, ix.ny)
	return
}

func (ix *Index) buildCells(cellsPerGrid float64) {
	if len(ix.leaves) == 0 {
		ix.nx, ix.ny = 0, 0
		return
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for i := range ix.polys {
		p := &ix.polys[i]
		minX, minY = math.Min(minX, p.minX), math.Min(minY, p.minY)
		maxX, maxY = math.Max(maxX, p.maxX), math.Max(maxY, p.maxY)
	}
	w, h := maxX-minX, maxY-minY
	if w <= 0 || h <= 0 {
		w, h = math.Max(w, 1e-9), math.Max(h, 1e-9)
	}
	target := cellsPerGrid * float64(len(ix.leaves))
	side := math.Sqrt(w * h / target)
	ix.nx = max(1, min(1<<14, int(math.Ceil(w/side))))
	ix.ny = max(1, min(1<<14, int(math.Ceil(h/side))))
	// Pad the extent a hair so the maximum coordinates fall in the last cell.
	ix.minX, ix.minY = minX, minY
	ix.invW = float64(ix.nx) / (w * (1 + 1e-9))
	ix.invH = float64(ix.ny) / (h * (1 + 1e-9))
	n := ix.nx * ix.ny

	// Which leaves have an edge in which cell, and which of the cell's
	// sub-cells the edges meet: see walkEdges. A cell no edge crosses lies
	// wholly inside one leaf or outside all.
	walked := ix.walkEdges()
	edgeCount := make([]uint32, n+1)
	subMask := make([]uint64, n)
	nPairs := 0
	for _, wk := range walked {
		for k, pr := range wk.pairs {
			c := pr >> 32
			edgeCount[c+1]++
			subMask[c] |= wk.masks[k]
		}
		nPairs += len(wk.pairs)
	}
	for i := 1; i <= n; i++ {
		edgeCount[i] += edgeCount[i-1]
	}
	edgeCand := make([]uint32, nPairs)
	fill := make([]uint32, n)
	copy(fill, edgeCount[:n])
	for _, wk := range walked {
		for _, pr := range wk.pairs {
			c := pr >> 32
			edgeCand[fill[c]] = uint32(pr)
			fill[c]++
		}
	}
	walked = nil

	// Box candidates (CSR), to find the leaf holding a cell's centre even
	// where no edge of it is near.
	boxCount := make([]uint32, n+1)
	for pi := range ix.polys {
		p := &ix.polys[pi]
		x0, y0, x1, y1 := ix.cellRange(p.minX, p.minY, p.maxX, p.maxY)
		for cy := y0; cy <= y1; cy++ {
			for cx := x0; cx <= x1; cx++ {
				boxCount[cy*ix.nx+cx+1]++
			}
		}
	}
	for i := 1; i <= n; i++ {
		boxCount[i] += boxCount[i-1]
	}
	boxCand := make([]uint32, boxCount[n])
	copy(fill, boxCount[:n])
	for pi := range ix.polys {
		p := &ix.polys[pi]
		x0, y0, x1, y1 := ix.cellRange(p.minX, p.minY, p.maxX, p.maxY)
		for cy := y0; cy <= y1; cy++ {
			for cx := x0; cx <= x1; cx++ {
				c := cy*ix.nx + cx
				boxCand[fill[c]] = uint32(pi) // leaves are visited in id order
				fill[c]++
			}
		}
	}

	// A cell's entry is the sure owner (id|sureBit), noCell, or the offset
	// v of its list in cellCand: cellCand[v] is the list's length,
	// cellCand[v+1] the offset of the cell's sub-cell block in cellSub, and
	// the candidates follow: the leaves with an edge in the cell, in leaf
	// order, after a leaf holding the whole cell where leaves overlap.
	// Cells are filled in parallel stripes, each with its own lists and
	// blocks, joined at the end (offsets shifted by the stripe's start).
	cells := make([]uint32, n)
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<16 {
		workers = 1
	}
	outs := make([][]uint32, workers)
	subs := make([][]byte, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			edgeCells := 0
			for c := lo; c < hi; c++ {
				if edgeCount[c+1] > edgeCount[c] {
					edgeCells++
				}
			}
			out := make([]uint32, 0, int(edgeCount[hi]-edgeCount[lo])+2*edgeCells+edgeCells/8)
			sub := make([]byte, 0, edgeCells*subBlock)
			for c := lo; c < hi; c++ {
				cx := ix.minX + (float64(c%ix.nx)+0.5)/ix.invW
				cy := ix.minY + (float64(c/ix.nx)+0.5)/ix.invH
				edges := edgeCand[edgeCount[c]:edgeCount[c+1]]
				// The leaf holding the centre of a cell no edge crosses
				// holds all of it. In a cell with edges, only a leaf with
				// no edge there is looked for so: one that holds the whole
				// cell, which happens only where leaves overlap.
				owner := int64(-1)
				for _, id := range boxCand[boxCount[c]:boxCount[c+1]] {
					if !slices.Contains(edges, id) && ix.polys[id].claims(cx, cy) {
						owner = int64(id)
						break
					}
				}
				if len(edges) == 0 {
					if owner < 0 {
						cells[c] = noCell
					} else {
						cells[c] = uint32(owner) | sureBit
					}
					continue
				}
				cells[c] = uint32(len(out))
				lenAt := len(out)
				out = append(out, 0, uint32(len(sub)))
				if owner >= 0 {
					out = append(out, uint32(owner))
				}
				out = append(out, edges...)
				out[lenAt] = uint32(len(out) - lenAt - 2)
				sub = append(sub, make([]byte, subBlock)...)
				ix.fillSubBlock(sub[len(sub)-subBlock:], subMask[c], c, out[lenAt+2:])
			}
			outs[w], subs[w] = out, sub
		}(w, lo, hi)
	}
	wg.Wait()
	total, totalSub := 0, 0
	for w := range outs {
		total += len(outs[w])
		totalSub += len(subs[w])
	}
	ix.cellCand = make([]uint32, 0, total)
	ix.cellSub = make([]byte, 0, totalSub)
	for w, o := range outs {
		base, subBase := uint32(len(ix.cellCand)), uint32(len(ix.cellSub))
		ix.cellCand = append(ix.cellCand, o...)
		ix.cellSub = append(ix.cellSub, subs[w]...)
		lo, hi := n*w/workers, n*(w+1)/workers
		for c := lo; c < hi; c++ {
			if cells[c]&sureBit == 0 {
				cells[c] += base
				ix.cellCand[cells[c]+1] += subBase
			}
		}
	}
	ix.cells = cells
}

// walkEdges finds the cells each leaf has an edge in: one pair
// cell<<32|leaf per cell and leaf, in leaf order, with the bits of the
// sub-cells of that cell the leaf's edges meet (see edgeWalker.edge). The
// leaves are shared out among the cores in ranges; the walkers' pairs, one
// after the other, are in leaf order.
func (ix *Index) walkEdges() []*edgeWalker {
	// Sub-cell coordinates: u = (x - minX) * invW * subSide, the mapping
	// locateID uses.
	sw, sh := ix.invW*subSide, ix.invH*subSide
	workers := runtime.GOMAXPROCS(0)
	if len(ix.polys) < 1024 {
		workers = 1
	}
	walkers := make([]*edgeWalker, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := len(ix.polys)*w/workers, len(ix.polys)*(w+1)/workers
		wk := &edgeWalker{
			nx: ix.nx, snx: ix.nx * subSide, sny: ix.ny * subSide,
			padU: edgePad * sw, padV: edgePad * sh,
			last: make([]int32, ix.nx*ix.ny), slot: make([]int32, ix.nx*ix.ny),
			// About 30 cells a leaf of the demo city.
			pairs: make([]uint64, 0, (hi-lo)*32), masks: make([]uint64, 0, (hi-lo)*32),
		}
		walkers[w] = wk
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pi := lo; pi < hi; pi++ {
				p := &ix.polys[pi]
				wk.poly = int32(pi)
				for ri := 0; ri+1 < len(p.ringStart); ri++ {
					for e := p.ringStart[ri]; e+1 < p.ringStart[ri+1]; e++ {
						a, b := p.pts[e], p.pts[e+1]
						wk.edge((a[0]-ix.minX)*sw, (a[1]-ix.minY)*sh, (b[0]-ix.minX)*sw, (b[1]-ix.minY)*sh)
					}
				}
			}
		}()
	}
	wg.Wait()
	return walkers
}

// edgePad, in degrees, widens each edge so that rounding in the mapping to
// sub-cells (errors near 1e-14 degrees) cannot hide a sub-cell it meets.
const edgePad = 1e-9

// edgeWalker marks the sub-cells the edges of one range of leaves meet.
type edgeWalker struct {
	nx, snx, sny int
	padU, padV   float64
	poly         int32
	last, slot   []int32 // per cell: the leaf that last met it plus one, and its pair
	pairs, masks []uint64
}

func (w *edgeWalker) mark(gx, gy int) {
	c := (gy>>subBits)*w.nx + gx>>subBits
	if w.last[c] != w.poly+1 {
		w.last[c] = w.poly + 1
		w.slot[c] = int32(len(w.pairs))
		w.pairs = append(w.pairs, uint64(c)<<32|uint64(w.poly))
		w.masks = append(w.masks, 0)
	}
	w.masks[w.slot[c]] |= 1 << ((gy&(subSide-1))<<subBits | gx&(subSide-1))
}

// clampCell is the cell (or sub-cell) of coordinate v, in [0, n).
func clampCell(v float64, n int) int {
	if v < 0 {
		return 0
	}
	if v >= float64(n) {
		return n - 1
	}
	return int(v)
}

// edge marks every sub-cell the segment (ua, va)–(ub, vb), in sub-cell
// coordinates and padded, meets: row by row for a steep segment, column by
// column for a shallow one.
func (w *edgeWalker) edge(ua, va, ub, vb float64) {
	du, dv := math.Abs(ub-ua), math.Abs(vb-va)
	switch {
	case du == 0 && dv == 0:
		for gy := clampCell(va-w.padV, w.sny); gy <= clampCell(va+w.padV, w.sny); gy++ {
			for gx := clampCell(ua-w.padU, w.snx); gx <= clampCell(ua+w.padU, w.snx); gx++ {
				w.mark(gx, gy)
			}
		}
	case dv >= du:
		w.sweep(va, ua, vb, ub, w.padV, w.padU, w.sny, w.snx, false)
	default:
		w.sweep(ua, va, ub, vb, w.padU, w.padV, w.snx, w.sny, true)
	}
}

// sweep walks a segment from (a0, b0) to (a1, b1) along its major axis a,
// one line of sub-cells at a time, and marks in each line the span of the
// minor axis b that the segment covers there; aIsX says which axis is x.
func (w *edgeWalker) sweep(a0, b0, a1, b1, padA, padB float64, nA, nB int, aIsX bool) {
	if a0 > a1 {
		a0, b0, a1, b1 = a1, b1, a0, b0
	}
	k := (b1 - b0) / (a1 - a0)
	lo, hi := a0-padA, a1+padA
	for ga := clampCell(lo, nA); ga <= clampCell(hi, nA); ga++ {
		b0l := b0 + (max(lo, float64(ga))-a0)*k
		b1l := b0 + (min(hi, float64(ga+1))-a0)*k
		for gb := clampCell(min(b0l, b1l)-padB, nB); gb <= clampCell(max(b0l, b1l)+padB, nB); gb++ {
			if aIsX {
				w.mark(ga, gb)
			} else {
				w.mark(gb, ga)
			}
		}
	}
}

// fillSubBlock writes edge cell c's sub-cell block: subAny where an edge
// meets the sub-cell (mask), else the position in list of the first
// candidate claiming it, or subNone. No edge crosses a region of connected
// unmarked sub-cells, so one test at one sub-cell's centre answers for the
// whole region, and for every point in it exactly as the list would.
func (ix *Index) fillSubBlock(block []byte, mask uint64, c int, list []uint32) {
	var code [subSide * subSide]byte
	gx0, gy0 := (c%ix.nx)*subSide, (c/ix.nx)*subSide
	free := ^mask & subAll
	for free != 0 {
		s := bits.TrailingZeros64(free)
		px := ix.minX + (float64(gx0+s&(subSide-1))+0.5)/(ix.invW*subSide)
		py := ix.minY + (float64(gy0+s>>subBits)+0.5)/(ix.invH*subSide)
		v := byte(subNone)
		for k, id := range list {
			if ix.polys[id].claims(px, py) {
				v = subAny // owners past the nibble's range take the list
				if k < subAny {
					v = byte(k)
				}
				break
			}
		}
		// The region of s: grow through unmarked neighbours until it stops.
		region := uint64(1) << s
		for {
			next := (region | region<<1&notFirstCol | region>>1&notLastCol | region<<subSide | region>>subSide) & free
			if next == region {
				break
			}
			region = next
		}
		free &^= region
		for r := region; r != 0; r &= r - 1 {
			code[bits.TrailingZeros64(r)] = v
		}
	}
	for m := mask & subAll; m != 0; m &= m - 1 {
		code[bits.TrailingZeros64(m)] = subAny
	}
	for i := range block {
		block[i] = code[2*i] | code[2*i+1]<<4
	}
}

// locateID is the hot path: the leaf id for a point, or -1.
func (ix *Index) locateID(x, y float64) int32 {
	id, v := ix.locateCell(x, y)
	if id != needList {
		return id
	}
	return ix.byList(ix.cellList(v), x, y)
}

// needList is what locateCell answers when the point needs the polygon
// tests of its cell's candidate list.
const needList = -2

// locateCell answers a point from the tables alone: its leaf id, -1, or
// needList with the offset of the cell's list in cellCand.
func (ix *Index) locateCell(x, y float64) (int32, uint32) {
	// Sub-cell coordinates; the cell's are these shifted by subBits.
	fx := (x - ix.minX) * ix.invW * subSide
	fy := (y - ix.minY) * ix.invH * subSide
	// The negated comparisons also reject NaN.
	if !(fx >= 0 && fy >= 0 && fx < float64(ix.nx*subSide) && fy < float64(ix.ny*subSide)) {
		return -1, 0
	}
	gx, gy := int(fx), int(fy)
	v := ix.cells[(gy>>subBits)*ix.nx+gx>>subBits]
	if v&sureBit != 0 {
		if v == noCell {
			return -1, 0
		}
		return int32(v &^ sureBit), 0
	}
	s := (gy&(subSide-1))<<subBits | gx&(subSide-1)
	switch k := ix.cellSub[int(ix.cellCand[v+1])+s>>1] >> (uint(s&1) * 4) & 15; k {
	case subNone:
		return -1, 0
	case subAny:
		return needList, v
	default:
		return int32(ix.cellCand[v+2+uint32(k)]), 0
	}
}

// cellList is the candidate list at offset v of cellCand.
func (ix *Index) cellList(v uint32) []uint32 {
	return ix.cellCand[v+2 : v+2+ix.cellCand[v]]
}

// byList is the answer of a cell's candidate list for a point in the cell:
// the first candidate claiming it.
func (ix *Index) byList(list []uint32, x, y float64) int32 {
	for _, id := range list {
		if ix.polys[id].claims(x, y) {
			return int32(id)
		}
	}
	return ix.onListBoundary(list, x, y)
}

// onListBoundary answers for a point that no candidate claims. Only a point
// on the jurisdiction's outer boundary gets here inside the jurisdiction:
// no nudge keeps it in, so the closed test decides, smallest code first.
func (ix *Index) onListBoundary(list []uint32, x, y float64) int32 {
	best := int32(-1)
	for _, id := range list {
		if (best < 0 || int32(id) < best) && ix.polys[id].onBoundary(x, y) {
			best = int32(id)
		}
	}
	return best
}

// leafCode is the code of leaf id as bytes, from one contiguous slab.
func (ix *Index) leafCode(id int32) []byte {
	return ix.codes[ix.codeStart[id]:ix.codeStart[id+1]]
}

// LocateCode returns the leaf grid's code for a point, "" when outside.
func (ix *Index) LocateCode(lon, lat float64) string {
	if id := ix.locateID(lon, lat); id >= 0 {
		return ix.leaves[id].Code
	}
	return ""
}

// Locate geocodes a point (WGS84) to its leaf grid. With snapM > 0 a point
// outside every grid goes to the nearest grid within snapM metres.
func (ix *Index) Locate(lon, lat, snapM float64) Match {
	if id := ix.locateID(lon, lat); id >= 0 {
		return Match{Grid: ix.leaves[id], Status: Inside}
	}
	if snapM > 0 && !math.IsNaN(lon) && !math.IsNaN(lat) {
		if g, d := ix.nearest(lon, lat, snapM); g != nil {
			return Match{Grid: g, Status: Snapped, DistanceM: d}
		}
	}
	return Match{Status: Unassigned}
}

// metresPerDegree is the length of a degree of latitude on the WGS84
// sphere of mean radius; snapping needs metres, not survey precision.
const metresPerDegree = 6371008.8 * math.Pi / 180

func (ix *Index) nearest(lon, lat, snapM float64) (*Grid, float64) {
	ky := metresPerDegree
	kx := metresPerDegree * math.Cos(lat*math.Pi/180)
	if kx < 1 {
		kx = 1
	}
	dx, dy := snapM/kx, snapM/ky
	best, bestD := int32(-1), math.Inf(1)
	ix.tree.Search(down32(lon-dx, lat-dy), up32(lon+dx, lat+dy), func(_, _ [2]float32, id int32) bool {
		d := ix.polys[id].distanceM(lon, lat, kx, ky)
		if d < bestD || (d == bestD && id < best) {
			best, bestD = id, d
		}
		return true
	})
	if best < 0 || bestD > snapM {
		return nil, 0
	}
	return ix.leaves[best], bestD
}

// Search calls fn for each leaf whose box meets b, until fn returns false.
func (ix *Index) Search(b orb.Bound, fn func(*Grid) bool) {
	ix.tree.Search(down32(b.Min[0], b.Min[1]), up32(b.Max[0], b.Max[1]), func(_, _ [2]float32, id int32) bool {
		return fn(ix.leaves[id])
	})
}

// Bytes estimates the index's own memory.
func (ix *Index) Bytes() int {
	n := len(ix.cells)*4 + len(ix.cellCand)*4 + len(ix.cellSub) + len(ix.leaves)*8
	for i := range ix.polys {
		p := &ix.polys[i]
		n += 120 + len(p.ringStart)*4 + len(p.bandStart)*4 + len(p.bandEdges)*4 + len(p.pts)*16
	}
	n += len(ix.leaves) * 40 // R-tree entries and nodes, roughly
	return n
}
