package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Raster is a planar lattice of NX×NY square cells of side Cell: cell (c, r)
// covers [X0+c·Cell, X0+(c+1)·Cell) × [Y0+r·Cell, Y0+(r+1)·Cell) and values
// are stored row by row, Values[r*NX+c]. Units are those of the points
// (metres for a Projection, pixels for a tile).
type Raster struct {
	X0, Y0, Cell float64
	NX, NY       int
}

func (r Raster) check() error {
	if !(r.Cell > 0) || r.NX <= 0 || r.NY <= 0 || int64(r.NX)*int64(r.NY) > MaxCells {
		return fmt.Errorf("raster: bad lattice %d×%d of %v", r.NX, r.NY, r.Cell)
	}
	return nil
}

// quartic is ArcGIS Kernel Density's kernel (Silverman 1986, eq. 4.5) with
// the unit volume scaling: a point of weight w at distance d < h adds
// w · 3/(π h²) · (1 − d²/h²)² to the density, so each point's surface
// integrates to w over the plane.
func quartic(d2, h2 float64) float64 {
	u := 1 - d2/h2
	return 3 / (math.Pi * h2) * u * u
}

// KernelDensity evaluates the quartic kernel density of the points (weights
// w, nil for 1 each) at every cell centre of r: density per square unit
// (multiply by 1e6 for per km² from metres). Each point visits only the
// cells within bandwidth h, so the cost is O(n·(h/Cell)²).
func KernelDensity(xs, ys, w []float64, r Raster, h float64) ([]float64, error) {
	if len(xs) != len(ys) || (w != nil && len(w) != len(xs)) {
		return nil, errors.New("kernel density: coordinate and weight lengths differ")
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("kernel density: %w", err)
	}
	if !(h > 0) || math.IsInf(h, 0) {
		return nil, fmt.Errorf("kernel density: bandwidth %v must be positive", h)
	}
	out := make([]float64, r.NX*r.NY)
	h2 := h * h
	for i := range xs {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		// Cells whose centres may lie within h: centre of c is X0+(c+.5)Cell.
		c0 := max(int(math.Ceil((xs[i]-h-r.X0)/r.Cell-0.5)), 0)
		c1 := min(int(math.Floor((xs[i]+h-r.X0)/r.Cell-0.5)), r.NX-1)
		r0 := max(int(math.Ceil((ys[i]-h-r.Y0)/r.Cell-0.5)), 0)
		r1 := min(int(math.Floor((ys[i]+h-r.Y0)/r.Cell-0.5)), r.NY-1)
		for row := r0; row <= r1; row++ {
			dy := r.Y0 + (float64(row)+0.5)*r.Cell - ys[i]
			line := out[row*r.NX : (row+1)*r.NX]
			for c := c0; c <= c1; c++ {
				dx := r.X0 + (float64(c)+0.5)*r.Cell - xs[i]
				if d2 := dx*dx + dy*dy; d2 < h2 {
					line[c] += wi * quartic(d2, h2)
				}
			}
		}
	}
	return out, nil
}

// KernelDensityBinned is the fast form for heat tiles: counts already binned
// on an nx×ny lattice of side cell are spread with the same quartic kernel,
// each count placed at its cell centre. The kernel stencil is computed once,
// so the cost is O(cells with counts × (h/cell)²) whatever the number of
// points; the error against KernelDensity is at most half a cell of
// position.
func KernelDensityBinned(counts []float64, nx, ny int, cell, h float64) ([]float64, error) {
	r := Raster{Cell: cell, NX: nx, NY: ny}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("binned kernel density: %w", err)
	}
	if len(counts) != nx*ny {
		return nil, fmt.Errorf("binned kernel density: %d counts for %d×%d cells", len(counts), nx, ny)
	}
	if !(h > 0) || math.IsInf(h, 0) {
		return nil, fmt.Errorf("binned kernel density: bandwidth %v must be positive", h)
	}
	reach := int(h / cell)
	side := 2*reach + 1
	stencil := make([]float64, side*side)
	h2 := h * h
	for dr := -reach; dr <= reach; dr++ {
		for dc := -reach; dc <= reach; dc++ {
			d2 := float64(dc*dc+dr*dr) * cell * cell
			if d2 < h2 {
				stencil[(dr+reach)*side+dc+reach] = quartic(d2, h2)
			}
		}
	}
	out := make([]float64, nx*ny)
	for row := 0; row < ny; row++ {
		for c := 0; c < nx; c++ {
			v := counts[row*nx+c]
			if v == 0 {
				continue
			}
			for dr := max(-reach, -row); dr <= min(reach, ny-1-row); dr++ {
				line := out[(row+dr)*nx : (row+dr+1)*nx]
				st := stencil[(dr+reach)*side : (dr+reach+1)*side]
				for dc := max(-reach, -c); dc <= min(reach, nx-1-c); dc++ {
					line[c+dc] += v * st[dc+reach]
				}
			}
		}
	}
	return out, nil
}

// DefaultBandwidth is ArcGIS Kernel Density's default search radius, a
// spatial variant of Silverman's rule of thumb that resists outliers:
//
//	h = 0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)
//
// where SD is the (weighted) standard distance about the (weighted) mean
// centre, Dm the (weighted) median distance to that centre and n the number
// of points, or the sum of the weights when given.
func DefaultBandwidth(xs, ys, w []float64) (float64, error) {
	n := len(xs)
	if len(ys) != n || (w != nil && len(w) != n) {
		return 0, errors.New("default bandwidth: coordinate and weight lengths differ")
	}
	if n < 2 {
		return 0, errors.New("default bandwidth: needs at least two points")
	}
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var sw, mx, my float64
	for i := range xs {
		sw += weight(i)
		mx += weight(i) * xs[i]
		my += weight(i) * ys[i]
	}
	if !(sw > 0) {
		return 0, errors.New("default bandwidth: weights sum to zero")
	}
	mx /= sw
	my /= sw
	type dw struct{ d, w float64 }
	ds := make([]dw, n)
	var ss float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		d2 := dx*dx + dy*dy
		ss += weight(i) * d2
		ds[i] = dw{math.Sqrt(d2), weight(i)}
	}
	sd := math.Sqrt(ss / sw)
	slices.SortFunc(ds, func(a, b dw) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	// Weighted median: the first distance where the cumulative weight
	// reaches half; the mean of the two middle values when it lands exactly
	// on a boundary, so the unweighted case is the ordinary median.
	var cum, dm float64
	for k, e := range ds {
		cum += e.w
		if cum > sw/2 {
			dm = e.d
			break
		}
		if cum == sw/2 && k+1 < n {
			dm = (e.d + ds[k+1].d) / 2
			break
		}
	}
	h := 0.9 * math.Min(sd, math.Sqrt(1/math.Ln2)*dm) * math.Pow(sw, -0.2)
	if !(h > 0) {
		return 0, errors.New("default bandwidth: points coincide")
	}
	return h, nil
}
