package topo

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// IncidentPoint is an incident as the impact diff needs it.
type IncidentPoint struct {
	ID  int64     `json:"id"`
	Lon float64   `json:"lon"`
	Lat float64   `json:"lat"`
	At  time.Time `json:"at"`
}

// LocateFunc answers the code of the leaf grid responsible for a WGS84
// point, or "" for none.
type LocateFunc func(lon, lat float64) string

// DiffOptions tune Diff.
type DiffOptions struct {
	// Since leaves out incidents reported before it (the last N days of
	// the planner's question); zero keeps all.
	Since time.Time
	// LocateOld and LocateNew place incidents in each set; nil uses
	// NewLocator on the set's leaves. Pass the service's geocoding index
	// so that boundary points follow its documented rule.
	LocateOld, LocateNew LocateFunc
}

// DiffReport is the impact of replacing one grid set with another.
type DiffReport struct {
	// Grids lists every grid, of any level, added, removed or reshaped.
	Grids []GridChange `json:"grids"`
	// Transfers counts the incidents whose responsible grid changes, per
	// from→to pair ("" for no grid), most first.
	Transfers []Transfer `json:"transfers"`
	Incidents int        `json:"incidents"` // considered (reported since Since)
	Moved     int        `json:"moved"`     // that change grid
	// Workload is incidents per leaf grid, every leaf counted, before and
	// after.
	WorkloadBefore Workload `json:"workload_before"`
	WorkloadAfter  Workload `json:"workload_after"`
	// Shapes gives compactness and contiguity of the leaf grids added,
	// removed or reshaped; ShapeBefore and ShapeAfter sum them up over
	// all leaves.
	Shapes      []ShapeChange `json:"shapes"`
	ShapeBefore ShapeStats    `json:"shape_before"`
	ShapeAfter  ShapeStats    `json:"shape_after"`
}

// GridChange is a grid added, removed or reshaped. Areas in m².
type GridChange struct {
	Code      string  `json:"code"`
	Level     string  `json:"level"`
	Change    string  `json:"change"` // added, removed or reshaped
	OldAreaM2 float64 `json:"old_area_m2"`
	NewAreaM2 float64 `json:"new_area_m2"`
	DeltaM2   float64 `json:"delta_m2"`
}

// Transfer is the incidents moving from one grid to another.
type Transfer struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	Count int     `json:"count"`
	IDs   []int64 `json:"ids"`
}

// Workload sums up incidents per leaf grid: mean, coefficient of
// variation (population standard deviation over mean), maximum and
// minimum with the grid that has them (the lowest code on ties).
type Workload struct {
	Grids      int     `json:"grids"`
	Incidents  int     `json:"incidents"`
	Unassigned int     `json:"unassigned"`
	Mean       float64 `json:"mean"`
	CV         float64 `json:"cv"`
	Max        int     `json:"max"`
	MaxGrid    string  `json:"max_grid"`
	Min        int     `json:"min"`
	MinGrid    string  `json:"min_grid"`
}

// ShapeChange is the compactness (Polsby–Popper 4πA/P², 1 for a disc) and
// the number of separate parts of a leaf grid before and after; a grid
// absent from a side has zeros there.
type ShapeChange struct {
	Code       string  `json:"code"`
	OldPP      float64 `json:"old_polsby_popper"`
	NewPP      float64 `json:"new_polsby_popper"`
	OldParts   int     `json:"old_parts"`
	NewParts   int     `json:"new_parts"`
	Fragmented bool    `json:"fragmented"` // in several parts after
	OldAreaM2  float64 `json:"old_area_m2"`
	NewAreaM2  float64 `json:"new_area_m2"`
	OldPerimM  float64 `json:"old_perimeter_m"`
	NewPerimM  float64 `json:"new_perimeter_m"`
}

// ShapeStats sums up the compactness of all leaves of a set.
type ShapeStats struct {
	Leaves    int     `json:"leaves"`
	MeanPP    float64 `json:"mean_polsby_popper"`
	MinPP     float64 `json:"min_polsby_popper"`
	MinPPGrid string  `json:"min_polsby_popper_grid"`
	Multipart int     `json:"multipart"`
}

// Diff compares two grid sets: each grid's change of area, the incidents
// that would change responsible grid, workload balance and the shape of
// the leaves. Areas and perimeters use the projection of Validate, about
// the centre of both sets.
func Diff(old, new []*grids.Grid, inc []IncidentPoint, opt DiffOptions) DiffReport {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, set := range [][]*grids.Grid{old, new} {
		for _, g := range set {
			if len(g.Geometry) > 0 {
				gb := g.Geometry.Bound()
				b.Min = orb.Point{math.Min(b.Min[0], gb.Min[0]), math.Min(b.Min[1], gb.Min[1])}
				b.Max = orb.Point{math.Max(b.Max[0], gb.Max[0]), math.Max(b.Max[1], gb.Max[1])}
			}
		}
	}
	proj := newProjection(b)
	measure := func(g *grids.Grid) (area, perim float64, parts int) {
		s, _ := newShape(g.Geometry, func(p orb.Point) xy { return proj.fwd(p[0], p[1]) })
		return s.areaM2(proj), s.perimeterM(proj), len(s.polys)
	}

	r := DiffReport{Grids: []GridChange{}, Transfers: []Transfer{}, Shapes: []ShapeChange{}}
	oldBy, newBy := byCode(old), byCode(new)
	codes := make([]string, 0, len(oldBy)+len(newBy))
	for c := range oldBy {
		codes = append(codes, c)
	}
	for c := range newBy {
		if _, ok := oldBy[c]; !ok {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	for _, c := range codes {
		o, n := oldBy[c], newBy[c]
		if o != nil && n != nil && orb.Equal(o.Geometry, n.Geometry) {
			continue
		}
		gc := GridChange{Code: c}
		var sc ShapeChange
		sc.Code = c
		if o != nil {
			gc.Level = o.Level.String()
			gc.OldAreaM2, sc.OldPerimM, sc.OldParts = measure(o)
			sc.OldAreaM2 = gc.OldAreaM2
		}
		if n != nil {
			gc.Level = n.Level.String()
			gc.NewAreaM2, sc.NewPerimM, sc.NewParts = measure(n)
			sc.NewAreaM2 = gc.NewAreaM2
		}
		switch {
		case o == nil:
			gc.Change = "added"
		case n == nil:
			gc.Change = "removed"
		default:
			gc.Change = "reshaped"
		}
		gc.DeltaM2 = gc.NewAreaM2 - gc.OldAreaM2
		r.Grids = append(r.Grids, gc)
		if (o != nil && o.Level == grids.LevelGrid) || (n != nil && n.Level == grids.LevelGrid) {
			sc.OldPP = polsbyPopper(sc.OldAreaM2, sc.OldPerimM)
			sc.NewPP = polsbyPopper(sc.NewAreaM2, sc.NewPerimM)
			sc.Fragmented = sc.NewParts > 1
			r.Shapes = append(r.Shapes, sc)
		}
	}
	r.ShapeBefore = shapeStats(old, measure)
	r.ShapeAfter = shapeStats(new, measure)

	locOld, locNew := opt.LocateOld, opt.LocateNew
	if locOld == nil {
		locOld = NewLocator(old).Locate
	}
	if locNew == nil {
		locNew = NewLocator(new).Locate
	}
	countOld, countNew := map[string]int{}, map[string]int{}
	transfers := map[[2]string]*Transfer{}
	var unOld, unNew int
	for _, in := range inc {
		if !opt.Since.IsZero() && in.At.Before(opt.Since) {
			continue
		}
		r.Incidents++
		from, to := locOld(in.Lon, in.Lat), locNew(in.Lon, in.Lat)
		if from == "" {
			unOld++
		} else {
			countOld[from]++
		}
		if to == "" {
			unNew++
		} else {
			countNew[to]++
		}
		if from == to {
			continue
		}
		r.Moved++
		k := [2]string{from, to}
		t := transfers[k]
		if t == nil {
			t = &Transfer{From: from, To: to}
			transfers[k] = t
		}
		t.Count++
		t.IDs = append(t.IDs, in.ID)
	}
	for _, t := range transfers {
		sort.Slice(t.IDs, func(i, j int) bool { return t.IDs[i] < t.IDs[j] })
		r.Transfers = append(r.Transfers, *t)
	}
	sort.Slice(r.Transfers, func(i, j int) bool {
		a, b := r.Transfers[i], r.Transfers[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	r.WorkloadBefore = workload(old, countOld, unOld)
	r.WorkloadAfter = workload(new, countNew, unNew)
	return r
}

func byCode(gs []*grids.Grid) map[string]*grids.Grid {
	m := make(map[string]*grids.Grid, len(gs))
	for _, g := range gs {
		if _, dup := m[g.Code]; !dup {
			m[g.Code] = g
		}
	}
	return m
}

func polsbyPopper(area, perim float64) float64 {
	if perim <= 0 {
		return 0
	}
	return 4 * math.Pi * area / (perim * perim)
}

func shapeStats(gs []*grids.Grid, measure func(*grids.Grid) (float64, float64, int)) ShapeStats {
	var s ShapeStats
	s.MinPP = math.Inf(1)
	var sum float64
	for _, g := range gs {
		if g.Level != grids.LevelGrid {
			continue
		}
		a, p, parts := measure(g)
		pp := polsbyPopper(a, p)
		s.Leaves++
		sum += pp
		if pp < s.MinPP || (pp == s.MinPP && g.Code < s.MinPPGrid) {
			s.MinPP, s.MinPPGrid = pp, g.Code
		}
		if parts > 1 {
			s.Multipart++
		}
	}
	if s.Leaves == 0 {
		s.MinPP = 0
		return s
	}
	s.MeanPP = sum / float64(s.Leaves)
	return s
}

func workload(gs []*grids.Grid, count map[string]int, unassigned int) Workload {
	w := Workload{Unassigned: unassigned, Min: math.MaxInt}
	var leaves []string
	for _, g := range gs {
		if g.Level == grids.LevelGrid {
			leaves = append(leaves, g.Code)
		}
	}
	sort.Strings(leaves)
	w.Grids = len(leaves)
	if w.Grids == 0 {
		w.Min = 0
		return w
	}
	var sum, sum2 float64
	for _, c := range leaves {
		n := count[c]
		w.Incidents += n
		sum += float64(n)
		sum2 += float64(n) * float64(n)
		if n > w.Max || w.MaxGrid == "" {
			w.Max, w.MaxGrid = n, c
		}
		if n < w.Min {
			w.Min, w.MinGrid = n, c
		}
	}
	w.Mean = sum / float64(w.Grids)
	if w.Mean > 0 {
		v := sum2/float64(w.Grids) - w.Mean*w.Mean
		w.CV = math.Sqrt(math.Max(v, 0)) / w.Mean
	}
	return w
}

// Locator places points in the leaf grids of a set: an R-tree of their
// boxes, then the even–odd crossing test on each candidate. A point on an
// edge shared by two grids goes to exactly one of them (the crossing test
// is half-open, and each edge is evaluated with its endpoints in one fixed
// order whichever grid it belongs to); where grids overlap, the lowest
// code wins. It is safe for concurrent use once built.
type Locator struct {
	tree   rtree.RTreeGN[float64, int]
	leaves []*grids.Grid
}

// NewLocator indexes the leaf grids of gs.
func NewLocator(gs []*grids.Grid) *Locator {
	l := &Locator{}
	for _, g := range gs {
		if g.Level != grids.LevelGrid || len(g.Geometry) == 0 {
			continue
		}
		b := g.Geometry.Bound()
		l.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, len(l.leaves))
		l.leaves = append(l.leaves, g)
	}
	return l
}

// Locate returns the code of the leaf grid holding the point, or "".
func (l *Locator) Locate(lon, lat float64) string {
	best := ""
	p := [2]float64{lon, lat}
	l.tree.Search(p, p, func(_, _ [2]float64, i int) bool {
		g := l.leaves[i]
		if (best == "" || g.Code < best) && multiPolygonHas(g.Geometry, lon, lat) {
			best = g.Code
		}
		return true
	})
	return best
}

func multiPolygonHas(mp orb.MultiPolygon, x, y float64) bool {
	in := false
	for _, p := range mp {
		for _, r := range p {
			for k := 0; k+1 < len(r); k++ {
				a, b := r[k], r[k+1]
				if a[1] > b[1] || (a[1] == b[1] && a[0] > b[0]) {
					a, b = b, a
				}
				if (a[1] > y) != (b[1] > y) {
					if x < a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
						in = !in
					}
				}
			}
		}
	}
	return in
}

// WriteText prints the impact for a terminal.
func (r DiffReport) WriteText(w io.Writer) error {
	var b strings.Builder
	counts := map[string]int{}
	for _, g := range r.Grids {
		counts[g.Change]++
	}
	fmt.Fprintf(&b, "grids: %d added, %d removed, %d reshaped\n", counts["added"], counts["removed"], counts["reshaped"])
	for _, g := range r.Grids {
		fmt.Fprintf(&b, "  %-8s %-9s %-15s %14.2f → %14.2f m² (%+.2f)\n", g.Change, g.Level, g.Code, g.OldAreaM2, g.NewAreaM2, g.DeltaM2)
	}
	fmt.Fprintf(&b, "incidents: %d considered, %d change grid\n", r.Incidents, r.Moved)
	for _, t := range r.Transfers {
		fmt.Fprintf(&b, "  %-15s → %-15s %6d\n", orNone(t.From), orNone(t.To), t.Count)
	}
	fmt.Fprintf(&b, "workload per grid      %10s %10s\n", "before", "after")
	wb, wa := r.WorkloadBefore, r.WorkloadAfter
	fmt.Fprintf(&b, "  grids                %10d %10d\n", wb.Grids, wa.Grids)
	fmt.Fprintf(&b, "  mean                 %10.2f %10.2f\n", wb.Mean, wa.Mean)
	fmt.Fprintf(&b, "  cv                   %10.3f %10.3f\n", wb.CV, wa.CV)
	fmt.Fprintf(&b, "  max                  %10d %10d  (%s, %s)\n", wb.Max, wa.Max, orNone(wb.MaxGrid), orNone(wa.MaxGrid))
	fmt.Fprintf(&b, "  min                  %10d %10d  (%s, %s)\n", wb.Min, wa.Min, orNone(wb.MinGrid), orNone(wa.MinGrid))
	fmt.Fprintf(&b, "  unassigned           %10d %10d\n", wb.Unassigned, wa.Unassigned)
	sb, sa := r.ShapeBefore, r.ShapeAfter
	fmt.Fprintf(&b, "compactness (Polsby–Popper) mean %.3f → %.3f, min %.3f → %.3f; grids in several parts %d → %d\n",
		sb.MeanPP, sa.MeanPP, sb.MinPP, sa.MinPP, sb.Multipart, sa.Multipart)
	for _, s := range r.Shapes {
		flag := ""
		if s.Fragmented {
			flag = fmt.Sprintf("  in %d parts", s.NewParts)
		}
		fmt.Fprintf(&b, "  %-15s %.3f → %.3f%s\n", s.Code, s.OldPP, s.NewPP, flag)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
