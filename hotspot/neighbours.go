package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Neighbours is a compact neighbour list in CSR form: the neighbours of
// feature i are Index[Offsets[i]:Offsets[i+1]], sorted by index. Weights,
// when not nil, runs parallel to Index; nil means binary weights (all 1),
// which is what fixed-distance and k-nearest conceptualisations use.
type Neighbours struct {
	Offsets []int32
	Index   []int32
	Weights []float64
}

// Len is the number of features.
func (nb Neighbours) Len() int {
	if len(nb.Offsets) == 0 {
		return 0
	}
	return len(nb.Offsets) - 1
}

// Of returns the neighbour indices of feature i.
func (nb Neighbours) Of(i int) []int32 { return nb.Index[nb.Offsets[i]:nb.Offsets[i+1]] }

// Counts returns the number of neighbours of each feature.
func (nb Neighbours) Counts() []int {
	out := make([]int, nb.Len())
	for i := range out {
		out[i] = int(nb.Offsets[i+1] - nb.Offsets[i])
	}
	return out
}

// Validate checks the CSR invariants, so that lists read from outside can be
// trusted by the hot loops.
func (nb Neighbours) Validate() error {
	n := nb.Len()
	if n == 0 {
		return errors.New("neighbours: empty")
	}
	if nb.Offsets[0] != 0 || int(nb.Offsets[n]) != len(nb.Index) {
		return errors.New("neighbours: offsets do not span the index")
	}
	if nb.Weights != nil && len(nb.Weights) != len(nb.Index) {
		return errors.New("neighbours: weights and index differ in length")
	}
	for i := 0; i < n; i++ {
		if nb.Offsets[i+1] < nb.Offsets[i] {
			return fmt.Errorf("neighbours: offsets decrease at %d", i)
		}
		for _, j := range nb.Of(i) {
			if j < 0 || int(j) >= n {
				return fmt.Errorf("neighbours: feature %d has neighbour %d out of range", i, j)
			}
		}
	}
	return nil
}

// WithSelf returns a copy where every feature is its own neighbour (weight
// 1 when weighted), as spdep's include.self does for Gi*.
func (nb Neighbours) WithSelf() Neighbours {
	n := nb.Len()
	out := Neighbours{Offsets: make([]int32, n+1), Index: make([]int32, 0, len(nb.Index)+n)}
	if nb.Weights != nil {
		out.Weights = make([]float64, 0, len(nb.Index)+n)
	}
	for i := 0; i < n; i++ {
		lo, hi := nb.Offsets[i], nb.Offsets[i+1]
		has := slices.Contains(nb.Index[lo:hi], int32(i))
		inserted := has
		for k := lo; k < hi; k++ {
			j := nb.Index[k]
			if !inserted && j > int32(i) {
				out.Index = append(out.Index, int32(i))
				if out.Weights != nil {
					out.Weights = append(out.Weights, 1)
				}
				inserted = true
			}
			out.Index = append(out.Index, j)
			if out.Weights != nil {
				out.Weights = append(out.Weights, nb.Weights[k])
			}
		}
		if !inserted {
			out.Index = append(out.Index, int32(i))
			if out.Weights != nil {
				out.Weights = append(out.Weights, 1)
			}
		}
		out.Offsets[i+1] = int32(len(out.Index))
	}
	return out
}

// maxNeighbourEntries bounds a CSR list so int32 offsets cannot overflow.
const maxNeighbourEntries = math.MaxInt32

// buckets is a uniform grid over points, stored CSR-style: the points of
// bucket b are order[start[b]:start[b+1]]. It makes radius and k-nearest
// searches O(1) per candidate instead of O(n).
type buckets struct {
	minX, minY float64
	size       float64
	nx, ny     int
	start      []int32
	order      []int32
}

// newBuckets sizes buckets to at least size and to about perBucket points
// each on average.
func newBuckets(xs, ys []float64, size, perBucket float64) buckets {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for i := range xs {
		minX, maxX = math.Min(minX, xs[i]), math.Max(maxX, xs[i])
		minY, maxY = math.Min(minY, ys[i]), math.Max(maxY, ys[i])
	}
	n := len(xs)
	// Keep the bucket count near n/perBucket whatever the requested size, so
	// a tiny band over a wide extent cannot allocate a huge empty grid.
	area := math.Max(maxX-minX, 1e-9) * math.Max(maxY-minY, 1e-9)
	if minSize := math.Sqrt(area * perBucket / float64(n)); size < minSize {
		size = minSize
	}
	if !(size > 0) {
		size = 1
	}
	b := buckets{minX: minX, minY: minY, size: size}
	b.nx = int((maxX-minX)/size) + 1
	b.ny = int((maxY-minY)/size) + 1
	b.start = make([]int32, b.nx*b.ny+1)
	keys := make([]int32, n)
	for i := range xs {
		k := b.key(xs[i], ys[i])
		keys[i] = int32(k)
		b.start[k+1]++
	}
	for k := 1; k < len(b.start); k++ {
		b.start[k] += b.start[k-1]
	}
	fill := slices.Clone(b.start[:len(b.start)-1])
	b.order = make([]int32, n)
	for i, k := range keys {
		b.order[fill[k]] = int32(i)
		fill[k]++
	}
	return b
}

func (b *buckets) cell(x, y float64) (int, int) {
	cx := int((x - b.minX) / b.size)
	cy := int((y - b.minY) / b.size)
	return min(max(cx, 0), b.nx-1), min(max(cy, 0), b.ny-1)
}

func (b *buckets) key(x, y float64) int {
	cx, cy := b.cell(x, y)
	return cy*b.nx + cx
}

func (b *buckets) points(cx, cy int) []int32 {
	k := cy*b.nx + cx
	return b.order[b.start[k]:b.start[k+1]]
}

// DistanceBand builds binary fixed-distance neighbours: j is a neighbour of
// i when their Euclidean distance is at most band (inclusive, like libpysal
// and spdep's dnearneigh upper bound). Coordinates must be planar (metres).
func DistanceBand(xs, ys []float64, band float64, includeSelf bool) (Neighbours, error) {
	if len(xs) != len(ys) {
		return Neighbours{}, errors.New("distance band: xs and ys differ in length")
	}
	if len(xs) == 0 {
		return Neighbours{}, errors.New("distance band: no points")
	}
	if !(band >= 0) || math.IsInf(band, 0) {
		return Neighbours{}, fmt.Errorf("distance band: invalid band %v", band)
	}
	b := newBuckets(xs, ys, band, 0.5)
	// Buckets may be larger than the band; reach covers the band either way.
	reach := int(math.Ceil(band / b.size))
	band2 := band * band
	n := len(xs)
	nb := Neighbours{Offsets: make([]int32, n+1)}
	for i := 0; i < n; i++ {
		x, y := xs[i], ys[i]
		cx, cy := b.cell(x, y)
		start := len(nb.Index)
		for gy := max(cy-reach, 0); gy <= min(cy+reach, b.ny-1); gy++ {
			for gx := max(cx-reach, 0); gx <= min(cx+reach, b.nx-1); gx++ {
				for _, j := range b.points(gx, gy) {
					if int(j) == i && !includeSelf {
						continue
					}
					dx, dy := xs[j]-x, ys[j]-y
					if dx*dx+dy*dy <= band2 {
						nb.Index = append(nb.Index, j)
					}
				}
			}
		}
		if len(nb.Index) > maxNeighbourEntries {
			return Neighbours{}, fmt.Errorf("distance band: more than %d neighbour pairs; use a smaller band", maxNeighbourEntries)
		}
		slices.Sort(nb.Index[start:])
		nb.Offsets[i+1] = int32(len(nb.Index))
	}
	return nb, nil
}

// KNearest builds binary k-nearest-neighbour lists (self excluded from the
// count of k; includeSelf then adds it). Ties at the k-th distance are broken
// by lower index so the result is deterministic.
func KNearest(xs, ys []float64, k int, includeSelf bool) (Neighbours, error) {
	n := len(xs)
	if len(ys) != n {
		return Neighbours{}, errors.New("k nearest: xs and ys differ in length")
	}
	if k < 1 || k >= n {
		return Neighbours{}, fmt.Errorf("k nearest: k=%d needs 1 <= k < n=%d", k, n)
	}
	if int64(n)*int64(k+1) > maxNeighbourEntries {
		return Neighbours{}, fmt.Errorf("k nearest: %d×%d neighbour pairs is too many", n, k)
	}
	// Aim for about k points per bucket so a few rings hold the answer.
	b := newBuckets(xs, ys, 0, float64(k))
	nb := Neighbours{Offsets: make([]int32, n+1), Index: make([]int32, 0, n*(k+1))}
	best := make([]cand, 0, k+1)
	for i := 0; i < n; i++ {
		best = b.nearest(xs, ys, i, k, best[:0])
		start := len(nb.Index)
		for _, c := range best {
			nb.Index = append(nb.Index, c.j)
		}
		if includeSelf {
			nb.Index = append(nb.Index, int32(i))
		}
		slices.Sort(nb.Index[start:])
		nb.Offsets[i+1] = int32(len(nb.Index))
	}
	return nb, nil
}

type cand struct {
	d2 float64
	j  int32
}

func (c cand) less(o cand) bool { return c.d2 < o.d2 || (c.d2 == o.d2 && c.j < o.j) }

// nearest returns the k nearest other points of i, searching bucket rings
// outward until the next ring cannot hold anything closer.
func (b *buckets) nearest(xs, ys []float64, i, k int, best []cand) []cand {
	x, y := xs[i], ys[i]
	cx, cy := b.cell(x, y)
	maxRing := max(b.nx, b.ny)
	for r := 0; r <= maxRing; r++ {
		if len(best) == k {
			// Any point in ring r is at least (r-1)*size away from (x, y).
			lim := float64(r-1) * b.size
			if lim > 0 && lim*lim > best[k-1].d2 {
				break
			}
		}
		for gy := cy - r; gy <= cy+r; gy++ {
			if gy < 0 || gy >= b.ny {
				continue
			}
			step := 1
			if gy != cy-r && gy != cy+r {
				step = 2 * r // only the ring's left and right edges
			}
			for gx := cx - r; gx <= cx+r; gx += max(step, 1) {
				if gx < 0 || gx >= b.nx {
					continue
				}
				for _, j := range b.points(gx, gy) {
					if int(j) == i {
						continue
					}
					dx, dy := xs[j]-x, ys[j]-y
					c := cand{dx*dx + dy*dy, j}
					if len(best) == k && !c.less(best[k-1]) {
						continue
					}
					pos := sort.Search(len(best), func(p int) bool { return c.less(best[p]) })
					if len(best) < k {
						best = append(best, cand{})
					}
					copy(best[pos+1:], best[pos:len(best)-1])
					best[pos] = c
				}
			}
		}
	}
	return best
}

// DefaultBand is the distance that gives every feature at least one
// neighbour: the largest nearest-neighbour distance. ArcGIS Hot Spot Analysis
// uses the same rule when no distance band is given.
func DefaultBand(xs, ys []float64) (float64, error) {
	n := len(xs)
	if len(ys) != n {
		return 0, errors.New("default band: xs and ys differ in length")
	}
	if n < 2 {
		return 0, errors.New("default band: needs at least two features")
	}
	b := newBuckets(xs, ys, 0, 1)
	var worst float64
	best := make([]cand, 0, 2)
	for i := 0; i < n; i++ {
		best = b.nearest(xs, ys, i, 1, best[:0])
		worst = math.Max(worst, best[0].d2)
	}
	return math.Sqrt(worst), nil
}

// LatticeBand builds binary fixed-distance neighbours among the cells of a
// square lattice without any distance search: cell i sits at column col[i],
// row row[i] of an nx×ny lattice of cellM-metre cells, and two cells are
// neighbours when their centres are at most bandM apart. The neighbour
// offsets are the same for every cell, so 1M cells build in about 50 ms.
func LatticeBand(nx, ny int, col, row []int32, cellM, bandM float64, includeSelf bool) (Neighbours, error) {
	if len(col) != len(row) {
		return Neighbours{}, errors.New("lattice band: col and row differ in length")
	}
	if nx <= 0 || ny <= 0 || int64(nx)*int64(ny) > math.MaxInt32 {
		return Neighbours{}, fmt.Errorf("lattice band: bad lattice %d×%d", nx, ny)
	}
	if !(cellM > 0) || !(bandM >= 0) || math.IsInf(bandM, 0) {
		return Neighbours{}, fmt.Errorf("lattice band: bad cell %v or band %v", cellM, bandM)
	}
	slot := make([]int32, nx*ny)
	for k := range slot {
		slot[k] = -1
	}
	for i := range col {
		c, r := int(col[i]), int(row[i])
		if c < 0 || c >= nx || r < 0 || r >= ny {
			return Neighbours{}, fmt.Errorf("lattice band: cell %d at (%d,%d) outside %d×%d", i, c, r, nx, ny)
		}
		if slot[r*nx+c] >= 0 {
			return Neighbours{}, fmt.Errorf("lattice band: cells %d and %d share (%d,%d)", slot[r*nx+c], i, c, r)
		}
		slot[r*nx+c] = int32(i)
	}
	// Offsets within the band, in row-major order so each list comes out
	// sorted by lattice position. The tiny tolerance keeps band = k·cell
	// inclusive despite rounding.
	reach := int(bandM/cellM + 1e-9)
	lim := (bandM / cellM) * (bandM / cellM) * (1 + 1e-12)
	type off struct{ dc, dr int }
	var offs []off
	for dr := -reach; dr <= reach; dr++ {
		for dc := -reach; dc <= reach; dc++ {
			if float64(dc*dc+dr*dr) > lim || (dc == 0 && dr == 0 && !includeSelf) {
				continue
			}
			offs = append(offs, off{dc, dr})
		}
	}
	n := len(col)
	if int64(n)*int64(len(offs)) > maxNeighbourEntries {
		return Neighbours{}, fmt.Errorf("lattice band: %d cells × %d offsets is too many; use a smaller band", n, len(offs))
	}
	// Cells at least reach away from the lattice border need no bounds
	// checks: their neighbours are at fixed slot deltas.
	delta := make([]int, len(offs))
	for k, o := range offs {
		delta[k] = o.dr*nx + o.dc
	}
	index := make([]int32, n*len(offs))
	nb := Neighbours{Offsets: make([]int32, n+1)}
	sortedBySlot := isRowMajor(col, row, nx)
	end := 0
	for i := 0; i < n; i++ {
		c, r := int(col[i]), int(row[i])
		start := end
		if c >= reach && c < nx-reach && r >= reach && r < ny-reach {
			base := r*nx + c
			for _, d := range delta {
				j := slot[base+d]
				index[end] = j
				end += int(uint32(^j) >> 31) // j ≥ 0: keep it
			}
		} else {
			for _, o := range offs {
				cc, rr := c+o.dc, r+o.dr
				if cc < 0 || cc >= nx || rr < 0 || rr >= ny {
					continue
				}
				if j := slot[rr*nx+cc]; j >= 0 {
					index[end] = j
					end++
				}
			}
		}
		if !sortedBySlot {
			slices.Sort(index[start:end])
		}
		nb.Offsets[i+1] = int32(end)
	}
	nb.Index = index[:end:end]
	if end < cap(index)/2 {
		// A sparse mask left most of the buffer unused; do not keep it.
		nb.Index = slices.Clone(nb.Index)
	}
	return nb, nil
}

// isRowMajor tells whether cell indices increase with lattice position, in
// which case neighbour lists built in offset order are already sorted.
func isRowMajor(col, row []int32, nx int) bool {
	for i := 1; i < len(col); i++ {
		if int(row[i])*nx+int(col[i]) <= int(row[i-1])*nx+int(col[i-1]) {
			return false
		}
	}
	return true
}
