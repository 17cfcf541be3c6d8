package grids

import (
	"errors"
	"fmt"
	"math"
	"runtime"
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
// edge crosses with their single owner so that most points need no polygon
// test at all.
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
}

const (
	sureBit = 1 << 31
	noCell  = 1<<32 - 1
)

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
	clampi := func(v float64, n int) int {
		if v < 0 {
			return 0
		}
		if v >= float64(n) {
			return n - 1
		}
		return int(v)
	}
	x0 = clampi((minX-ix.minX)*ix.invW, ix.nx)
	x1 = clampi((maxX-ix.minX)*ix.invW, ix.nx)
	y0 = clampi((minY-ix.minY)*ix.invH, ix.ny)
	y1 = clampi((maxY-ix.minY)*ix.invH, ix.ny)
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

	// Which leaves have an edge in which cell: walk every edge in steps of
	// under half a cell and take the cells of each step's padded box. A
	// cell no edge crosses lies wholly inside one leaf or outside all.
	lastPoly := make([]int32, n)
	for i := range lastPoly {
		lastPoly[i] = -1
	}
	edgeCount := make([]uint32, n+1)
	var pairs []uint64 // cell<<32 | leaf, each pair once
	stepX, stepY := 0.5/ix.invW, 0.5/ix.invH
	const pad = 1e-9
	for pi := range ix.polys {
		p := &ix.polys[pi]
		for ri := 0; ri+1 < len(p.ringStart); ri++ {
			for e := p.ringStart[ri]; e+1 < p.ringStart[ri+1]; e++ {
				a, b := p.pts[e], p.pts[e+1]
				steps := int(math.Max(math.Abs(b[0]-a[0])/stepX, math.Abs(b[1]-a[1])/stepY)) + 1
				for s := 0; s < steps; s++ {
					t0, t1 := float64(s)/float64(steps), float64(s+1)/float64(steps)
					ax, ay := a[0]+(b[0]-a[0])*t0, a[1]+(b[1]-a[1])*t0
					bx, by := a[0]+(b[0]-a[0])*t1, a[1]+(b[1]-a[1])*t1
					x0, y0, x1, y1 := ix.cellRange(math.Min(ax, bx)-pad, math.Min(ay, by)-pad, math.Max(ax, bx)+pad, math.Max(ay, by)+pad)
					for cy := y0; cy <= y1; cy++ {
						for cx := x0; cx <= x1; cx++ {
							c := cy*ix.nx + cx
							if lastPoly[c] != int32(pi) {
								lastPoly[c] = int32(pi)
								edgeCount[c+1]++
								pairs = append(pairs, uint64(c)<<32|uint64(pi))
							}
						}
					}
				}
			}
		}
	}
	for i := 1; i <= n; i++ {
		edgeCount[i] += edgeCount[i-1]
	}
	edgeCand := make([]uint32, len(pairs))
	fill := make([]uint32, n)
	copy(fill, edgeCount[:n])
	for _, pr := range pairs {
		c := pr >> 32
		edgeCand[fill[c]] = uint32(pr)
		fill[c]++
	}
	pairs = nil

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
	// of its candidate list in cellCand (length first). The leaf holding
	// the centre goes first in the list: it answers for most of the cell.
	// Cells are filled in parallel stripes, each with its own candidate
	// list, joined at the end (offsets shifted by the stripe's start).
	cells := make([]uint32, n)
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<16 {
		workers = 1
	}
	outs := make([][]uint32, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			out := make([]uint32, 0, int(edgeCount[hi]-edgeCount[lo])+(hi-lo)/2)
			for c := lo; c < hi; c++ {
				cx := ix.minX + (float64(c%ix.nx)+0.5)/ix.invW
				cy := ix.minY + (float64(c/ix.nx)+0.5)/ix.invH
				owner := int64(-1)
				for _, id := range boxCand[boxCount[c]:boxCount[c+1]] {
					if ix.polys[id].claims(cx, cy) {
						owner = int64(id)
						break
					}
				}
				edges := edgeCand[edgeCount[c]:edgeCount[c+1]]
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
				out = append(out, 0)
				if owner >= 0 {
					out = append(out, uint32(owner))
				}
				for _, id := range edges {
					if int64(id) != owner {
						out = append(out, id)
					}
				}
				out[lenAt] = uint32(len(out) - lenAt - 1)
			}
			outs[w] = out
		}(w, lo, hi)
	}
	wg.Wait()
	total := 0
	for _, o := range outs {
		total += len(o)
	}
	ix.cellCand = make([]uint32, 0, total)
	for w, o := range outs {
		base := uint32(len(ix.cellCand))
		lo, hi := n*w/workers, n*(w+1)/workers
		for c := lo; c < hi; c++ {
			if cells[c]&sureBit == 0 {
				cells[c] += base
			}
		}
		ix.cellCand = append(ix.cellCand, o...)
	}
	ix.cells = cells
}

// locateID is the hot path: the leaf id for a point, or -1.
func (ix *Index) locateID(x, y float64) int32 {
	fx := (x - ix.minX) * ix.invW
	fy := (y - ix.minY) * ix.invH
	// The negated comparisons also reject NaN.
	if !(fx >= 0 && fy >= 0 && fx < float64(ix.nx) && fy < float64(ix.ny)) {
		return -1
	}
	v := ix.cells[int(fy)*ix.nx+int(fx)]
	if v&sureBit != 0 {
		if v == noCell {
			return -1
		}
		return int32(v &^ sureBit)
	}
	list := ix.cellCand[v+1 : v+1+ix.cellCand[v]]
	for _, id := range list {
		if ix.polys[id].claims(x, y) {
			return int32(id)
		}
	}
	// Only a point on the jurisdiction's outer boundary gets here inside
	// the jurisdiction: no nudge keeps it in, so the closed test decides,
	// smallest code first.
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
	n := len(ix.cells)*4 + len(ix.cellCand)*4 + len(ix.leaves)*8
	for i := range ix.polys {
		p := &ix.polys[i]
		n += 120 + len(p.ringStart)*4 + len(p.bandStart)*4 + len(p.bandEdges)*4 + len(p.pts)*16
	}
	n += len(ix.leaves) * 40 // R-tree entries and nodes, roughly
	return n
}
