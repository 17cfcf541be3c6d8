package hotspot

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// WGS84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

// Projection is a local equirectangular projection on the WGS84 ellipsoid,
// centred at (Lon0, Lat0): x = N(φ0)·cos φ0·Δλ, y = M(φ0)·Δφ, with N and M
// the prime-vertical and meridional radii of curvature at the centre. Scale
// is true at the centre; the east–west scale drifts by tan φ0·Δφ (about
// 0.4% at 50 km north or south of a centre at 40°N), which is well inside
// what square analysis cells need. Being affine in lon/lat, a lon/lat box
// maps to a rectangle and back exactly.
type Projection struct {
	Lon0, Lat0 float64
	kx, ky     float64 // metres per degree
}

// NewProjection returns the local projection centred at (lon0, lat0).
func NewProjection(lon0, lat0 float64) Projection {
	phi := lat0 * math.Pi / 180
	sin := math.Sin(phi)
	w := 1 - wgs84E2*sin*sin
	n := wgs84A / math.Sqrt(w)
	m := wgs84A * (1 - wgs84E2) / (w * math.Sqrt(w))
	return Projection{Lon0: lon0, Lat0: lat0, kx: n * math.Cos(phi) * math.Pi / 180, ky: m * math.Pi / 180}
}

// Forward projects lon/lat (degrees) to metres.
func (p Projection) Forward(lon, lat float64) (x, y float64) {
	return (lon - p.Lon0) * p.kx, (lat - p.Lat0) * p.ky
}

// Inverse maps metres back to lon/lat.
func (p Projection) Inverse(x, y float64) (lon, lat float64) {
	return p.Lon0 + x/p.kx, p.Lat0 + y/p.ky
}

// MaxCells bounds the lattice of a Grid so a tiny cell_m over a large
// jurisdiction is refused instead of exhausting memory.
const MaxCells = 16 << 20

// Grid is a lattice of square analysis cells of CellM metres laid over a
// jurisdiction's bounding box in its local Projection. Only cells kept by the
// filter given to NewGrid are analysed; kept cell i sits at lattice column
// Col[i], row Row[i] (row 0 at the south), numbered row-major.
type Grid struct {
	Proj   Projection
	CellM  float64
	X0, Y0 float64 // projected south-west corner of lattice cell (0, 0)
	NX, NY int
	Col    []int32
	Row    []int32
	slot   []int32 // lattice position → kept index, or −1
	// The lattice in lon/lat (the projection is affine): cell edges are
	// lon0 + c·dlon and lat0 + r·dlat, computed the same way by Bound and
	// Locate so a point on an edge falls in exactly one cell.
	lon0, lat0, dlon, dlat float64
}

// CellFilter decides whether a lattice cell is analysed, given its centre and
// its lon/lat box: test the centre for "cell centre inside the jurisdiction",
// or the box against the polygons for "cell intersects the jurisdiction".
type CellFilter func(center orb.Point, cell orb.Bound) bool

// NewGrid lays cellM-metre cells over bound (lon/lat), projected about the
// bound's centre, and keeps the cells that keep accepts (all when nil).
func NewGrid(bound orb.Bound, cellM float64, keep CellFilter) (*Grid, error) {
	if !(cellM > 0) || math.IsInf(cellM, 0) {
		return nil, fmt.Errorf("grid: cell size %v m must be positive", cellM)
	}
	if bound.Min[0] > bound.Max[0] || bound.Min[1] > bound.Max[1] ||
		bound.Min[1] < -85 || bound.Max[1] > 85 {
		return nil, fmt.Errorf("grid: unusable bound %v", bound)
	}
	c := bound.Center()
	g := &Grid{Proj: NewProjection(c[0], c[1]), CellM: cellM}
	g.X0, g.Y0 = g.Proj.Forward(bound.Min[0], bound.Min[1])
	g.lon0, g.lat0 = bound.Min[0], bound.Min[1]
	g.dlon, g.dlat = cellM/g.Proj.kx, cellM/g.Proj.ky
	x1, y1 := g.Proj.Forward(bound.Max[0], bound.Max[1])
	nx := math.Max(1, math.Ceil((x1-g.X0)/cellM))
	ny := math.Max(1, math.Ceil((y1-g.Y0)/cellM))
	if nx*ny > MaxCells {
		return nil, fmt.Errorf("grid: %.0f×%.0f cells of %v m exceed the limit of %d; use a larger cell size", nx, ny, cellM, MaxCells)
	}
	g.NX, g.NY = int(nx), int(ny)
	g.slot = make([]int32, g.NX*g.NY)
	for r := 0; r < g.NY; r++ {
		for col := 0; col < g.NX; col++ {
			k := r*g.NX + col
			g.slot[k] = -1
			if keep != nil {
				b := g.latticeBound(col, r)
				if !keep(b.Center(), b) {
					continue
				}
			}
			g.slot[k] = int32(len(g.Col))
			g.Col = append(g.Col, int32(col))
			g.Row = append(g.Row, int32(r))
		}
	}
	if len(g.Col) == 0 {
		return nil, errors.New("grid: no cell inside the jurisdiction")
	}
	return g, nil
}

// Len is the number of kept cells.
func (g *Grid) Len() int { return len(g.Col) }

func (g *Grid) lonEdge(c int) float64 { return g.lon0 + float64(c)*g.dlon }
func (g *Grid) latEdge(r int) float64 { return g.lat0 + float64(r)*g.dlat }

func (g *Grid) latticeBound(col, row int) orb.Bound {
	return orb.Bound{
		Min: orb.Point{g.lonEdge(col), g.latEdge(row)},
		Max: orb.Point{g.lonEdge(col + 1), g.latEdge(row + 1)},
	}
}

// Bound is cell i's lon/lat box.
func (g *Grid) Bound(i int) orb.Bound { return g.latticeBound(int(g.Col[i]), int(g.Row[i])) }

// Polygon is cell i as a closed counter-clockwise lon/lat ring (RFC 7946).
func (g *Grid) Polygon(i int) orb.Polygon {
	b := g.Bound(i)
	return orb.Polygon{orb.Ring{
		{b.Min[0], b.Min[1]}, {b.Max[0], b.Min[1]}, {b.Max[0], b.Max[1]},
		{b.Min[0], b.Max[1]}, {b.Min[0], b.Min[1]},
	}}
}

// XY is cell i's projected centre in metres.
func (g *Grid) XY(i int) (x, y float64) {
	return g.X0 + (float64(g.Col[i])+0.5)*g.CellM, g.Y0 + (float64(g.Row[i])+0.5)*g.CellM
}

// Centers returns every kept cell's projected centre.
func (g *Grid) Centers() (xs, ys []float64) {
	xs, ys = make([]float64, g.Len()), make([]float64, g.Len())
	for i := range xs {
		xs[i], ys[i] = g.XY(i)
	}
	return xs, ys
}

// Locate returns the kept cell holding lon/lat, or −1. Cells are half-open,
// [west, east) × [south, north), so a point on a shared edge has one cell.
func (g *Grid) Locate(lon, lat float64) int {
	fc := math.Floor((lon - g.lon0) / g.dlon)
	fr := math.Floor((lat - g.lat0) / g.dlat)
	if !(fc >= -1 && fr >= -1 && fc <= float64(g.NX) && fr <= float64(g.NY)) {
		return -1
	}
	// The division may round across an edge; settle against the edges
	// exactly as Bound computes them.
	c, r := int(fc), int(fr)
	if lon < g.lonEdge(c) {
		c--
	} else if lon >= g.lonEdge(c+1) {
		c++
	}
	if lat < g.latEdge(r) {
		r--
	} else if lat >= g.latEdge(r+1) {
		r++
	}
	if c < 0 || r < 0 || c >= g.NX || r >= g.NY {
		return -1
	}
	return int(g.slot[r*g.NX+c])
}

// Neighbours builds binary fixed-distance neighbours among the kept cells
// (centres at most bandM apart) from lattice offsets.
func (g *Grid) Neighbours(bandM float64, includeSelf bool) (Neighbours, error) {
	return LatticeBand(g.NX, g.NY, g.Col, g.Row, g.CellM, bandM, includeSelf)
}

// DefaultBand is the smallest distance giving every kept cell at least one
// neighbour (ArcGIS's default): CellM when every cell has an edge neighbour,
// more when some kept cells are isolated.
func (g *Grid) DefaultBand() (float64, error) {
	if g.Len() < 2 {
		return 0, errors.New("default band: needs at least two cells")
	}
	xs, ys := g.Centers()
	return DefaultBand(xs, ys)
}

// Points are incident columns as plain slices (the in-memory incident store
// keeps them this way). ReportedAt (unix seconds) and Category may be nil
// when the filter does not use them.
type Points struct {
	Lon, Lat   []float64
	ReportedAt []int64
	Category   []uint16
}

// Len is the number of points.
func (p Points) Len() int { return len(p.Lon) }

func (p Points) check() error {
	n := len(p.Lon)
	if len(p.Lat) != n {
		return errors.New("points: lon and lat differ in length")
	}
	if p.ReportedAt != nil && len(p.ReportedAt) != n {
		return errors.New("points: reported_at differs in length")
	}
	if p.Category != nil && len(p.Category) != n {
		return errors.New("points: category differs in length")
	}
	return nil
}

// Filter selects incidents by time, [From, To), and category. Zero times
// leave that end open; no categories means all.
type Filter struct {
	From, To   time.Time
	Categories []uint16
}

// matcher is a Filter compiled for a hot loop.
type matcher struct {
	from, to int64
	cats     []uint64 // bitset over uint16, nil = all
	p        Points
}

func (f Filter) compile(p Points) (matcher, error) {
	m := matcher{from: math.MinInt64, to: math.MaxInt64, p: p}
	if !f.From.IsZero() {
		m.from = f.From.Unix()
	}
	if !f.To.IsZero() {
		m.to = f.To.Unix()
	}
	if (!f.From.IsZero() || !f.To.IsZero()) && p.ReportedAt == nil {
		return m, errors.New("filter: time range given but points carry no times")
	}
	if len(f.Categories) > 0 {
		if p.Category == nil {
			return m, errors.New("filter: categories given but points carry none")
		}
		m.cats = make([]uint64, 1<<16/64)
		for _, c := range f.Categories {
			m.cats[c>>6] |= 1 << (c & 63)
		}
	}
	return m, nil
}

// Matcher compiles f for the columns of p: the returned func tells whether
// incident i passes. Lon and Lat of p are not used and may be nil.
func (f Filter) Matcher(p Points) (func(i int) bool, error) {
	if p.ReportedAt != nil && p.Category != nil && len(p.ReportedAt) != len(p.Category) {
		return nil, errors.New("filter: reported_at and category differ in length")
	}
	m, err := f.compile(p)
	if err != nil {
		return nil, err
	}
	return m.match, nil
}

func (m *matcher) match(i int) bool {
	if m.p.ReportedAt != nil {
		if t := m.p.ReportedAt[i]; t < m.from || t >= m.to {
			return false
		}
	}
	if m.cats != nil {
		c := m.p.Category[i]
		if m.cats[c>>6]&(1<<(c&63)) == 0 {
			return false
		}
	}
	return true
}

// Count bins the points that pass f into the kept cells; points outside
// every kept cell are dropped.
func (g *Grid) Count(p Points, f Filter) ([]float64, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	m, err := f.compile(p)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	counts := make([]float64, g.Len())
	for i := range p.Lon {
		if !m.match(i) {
			continue
		}
		if c := g.Locate(p.Lon[i], p.Lat[i]); c >= 0 {
			counts[c]++
		}
	}
	return counts, nil
}

// Step is the time step of a space-time cube.
type Step int

const (
	StepDay Step = iota + 1
	StepWeek
	StepMonth
)

// ParseStep reads "day", "week" or "month".
func ParseStep(s string) (Step, error) {
	switch s {
	case "day":
		return StepDay, nil
	case "week":
		return StepWeek, nil
	case "month":
		return StepMonth, nil
	}
	return 0, fmt.Errorf("unknown step %q (want day, week or month)", s)
}

func (s Step) String() string {
	switch s {
	case StepDay:
		return "day"
	case StepWeek:
		return "week"
	case StepMonth:
		return "month"
	}
	return "unknown"
}

// back returns t moved k steps earlier, in t's location (calendar days and
// months, so daylight-saving days stay whole).
func (s Step) back(t time.Time, k int) time.Time {
	switch s {
	case StepDay:
		return t.AddDate(0, 0, -k)
	case StepWeek:
		return t.AddDate(0, 0, -7*k)
	default:
		return t.AddDate(0, -k, 0)
	}
}

// Boundaries returns the slice boundaries of [from, to) by step, aligned to
// to (ArcGIS's default end-time alignment, so the final slice, which the
// emerging categories hinge on, is a whole step). A partial step at the
// start is dropped: every slice covers one full step. Months count back by
// calendar month from to (to on the 1st gives calendar months).
func (s Step) Boundaries(from, to time.Time) ([]time.Time, error) {
	if s < StepDay || s > StepMonth {
		return nil, fmt.Errorf("boundaries: unknown step %d", s)
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return nil, fmt.Errorf("boundaries: need from < to, got %v and %v", from, to)
	}
	var out []time.Time
	for k := 0; ; k++ {
		b := s.back(to, k)
		if b.Before(from) {
			break
		}
		out = append(out, b)
		if len(out) > 100000 {
			return nil, errors.New("boundaries: more than 100000 steps")
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("boundaries: [%v, %v) holds no whole %s", from, to, s)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Cube is a space-time cube: N cells × T time slices of counts, stored
// slice-major (Values[t*N+i]); slice t covers [Starts[t], Starts[t+1]).
type Cube struct {
	N, T   int
	Values []float64
	Starts []time.Time
}

// At is the count of cell i in slice t.
func (c *Cube) At(i, t int) float64 { return c.Values[t*c.N+i] }

// Series copies cell i's counts over time.
func (c *Cube) Series(i int) []float64 {
	out := make([]float64, c.T)
	for t := range out {
		out[t] = c.Values[t*c.N+i]
	}
	return out
}

// Cube bins the points passing f into cells and into time slices of step
// over [f.From, f.To) (both required).
func (g *Grid) Cube(p Points, f Filter, step Step) (*Cube, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("cube: %w", err)
	}
	starts, err := step.Boundaries(f.From, f.To)
	if err != nil {
		return nil, fmt.Errorf("cube: %w", err)
	}
	// Only the whole slices count: narrow the filter to them.
	f.From = starts[0]
	m, err := f.compile(p)
	if err != nil {
		return nil, fmt.Errorf("cube: %w", err)
	}
	unix := make([]int64, len(starts))
	for i, b := range starts {
		unix[i] = b.Unix()
	}
	c := &Cube{N: g.Len(), T: len(starts) - 1, Starts: starts}
	c.Values = make([]float64, c.N*c.T)
	for i := range p.Lon {
		if !m.match(i) {
			continue
		}
		cell := g.Locate(p.Lon[i], p.Lat[i])
		if cell < 0 {
			continue
		}
		ts := p.ReportedAt[i]
		t := sort.Search(len(unix), func(k int) bool { return unix[k] > ts }) - 1
		if t < 0 || t >= c.T {
			continue
		}
		c.Values[t*c.N+cell]++
	}
	return c, nil
}
