package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/hotspot"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/tiles"
)

// Limits of the analytics endpoints. A request past them gets 422: the
// numbers keep one response within memory and a few seconds of work.
const (
	defaultCellM = 250.0
	minCellM     = 50.0
	maxCellM     = 5000.0
	// maxLattice bounds the lattice laid over the jurisdiction's box before
	// cells are tested against it; maxCells the cells analysed and returned.
	maxLattice = 4 << 20
	maxCells   = 200_000
	// maxBandCells bounds band_m as a multiple of cell_m (about 1,250
	// neighbours a cell at the limit).
	maxBandCells = 20
	maxK         = 64
	// maxCubeBins bounds cells × time slices of an emerging analysis.
	maxCubeBins = 20_000_000
	// maxGridEntries bounds the analysis grids kept between requests.
	maxGridEntries = 16
)

// analytics serves /api/v1/hotspots, /emerging, /alerts and /stats/grids.
// It keeps between requests the analysis grids of the sets in force (per
// set, scope and cell size; a published set never changes, so the set id
// is a sufficient key) and a copy of the incident columns as the plain
// slices the hotspot package reads.
type analytics struct {
	s *Server

	gridsMu sync.Mutex
	grids   map[gridKey]*gridEntry

	pts pointsCache
}

func newAnalytics(s *Server) *analytics {
	return &analytics{s: s, grids: map[gridKey]*gridEntry{}}
}

type gridKey struct {
	setID int64
	scope string
	cellM float64
}

type gridEntry struct {
	once sync.Once
	g    *hotspot.Grid
	err  error
}

// unprocessable is the 422 of a well-formed request the analysis refuses.
func unprocessable(format string, args ...any) *Problem {
	return problem(http.StatusUnprocessableEntity, format, args...)
}

// setAt is the index of the set in force at t; 404 when there is none.
func (an *analytics) setAt(t time.Time) (*grids.Index, error) {
	ix, err := an.s.reg.At(t)
	if errors.Is(err, grids.ErrNoSet) {
		return nil, notFound("no grid set is in force at %s", t.Format(time.RFC3339))
	}
	if err != nil {
		return nil, fmt.Errorf("grid set at %s: %w", t.Format(time.RFC3339), err)
	}
	return ix, nil
}

// scopeLeaves are the set's leaf grids within scope ("" for all).
func scopeLeaves(ix *grids.Index, scope string) []*grids.Grid {
	var out []*grids.Grid
	for _, g := range ix.Set().Grids {
		if g.Level == grids.LevelGrid && strings.HasPrefix(g.Code, scope) {
			out = append(out, g)
		}
	}
	return out
}

// grid returns the analysis cells of cellM metres over the jurisdiction of
// ix's set, or of the scope's subtree for a scoped key: the lattice cells
// whose centre lies in one of its leaf grids (ArcGIS's polygon analysis
// mask). Grids are built once per set, scope and cell size.
func (an *analytics) grid(ix *grids.Index, scope string, cellM float64) (*hotspot.Grid, error) {
	k := gridKey{setID: ix.Set().ID, scope: scope, cellM: cellM}
	an.gridsMu.Lock()
	e, ok := an.grids[k]
	if !ok {
		if len(an.grids) >= maxGridEntries {
			clear(an.grids)
		}
		e = &gridEntry{}
		an.grids[k] = e
	}
	an.gridsMu.Unlock()
	e.once.Do(func() { e.g, e.err = buildGrid(ix, scope, cellM) })
	if e.err != nil {
		return nil, e.err
	}
	if n := e.g.Len(); n > maxCells {
		return nil, unprocessable("cell_m %g gives %d cells, more than the %d allowed: use a larger cell_m", cellM, n, maxCells)
	}
	return e.g, nil
}

func buildGrid(ix *grids.Index, scope string, cellM float64) (*hotspot.Grid, error) {
	leaves := scopeLeaves(ix, scope)
	if len(leaves) == 0 {
		return nil, notFound("no grid of set %d lies within scope %q", ix.Set().ID, scope)
	}
	bound := leaves[0].Bound()
	for _, g := range leaves[1:] {
		bound = bound.Union(g.Bound())
	}
	// Refuse a lattice too large before laying it out cell by cell.
	p := hotspot.NewProjection(bound.Center()[0], bound.Center()[1])
	x0, y0 := p.Forward(bound.Min[0], bound.Min[1])
	x1, y1 := p.Forward(bound.Max[0], bound.Max[1])
	if n := math.Ceil((x1-x0)/cellM) * math.Ceil((y1-y0)/cellM); n > maxLattice {
		return nil, unprocessable("cell_m %g lays %.0f cells over the jurisdiction's box, more than %d: use a larger cell_m", cellM, n, maxLattice)
	}
	keep := func(c orb.Point, _ orb.Bound) bool {
		code := ix.LocateCode(c[0], c[1])
		return code != "" && strings.HasPrefix(code, scope)
	}
	g, err := hotspot.NewGrid(bound, cellM, keep)
	if err != nil {
		return nil, unprocessable("analysis cells: %v", err)
	}
	return g, nil
}

// pointsCache mirrors the incident columns as the slices hotspot reads.
// Rows are append-only and their place, time and category never change, so
// the copy only grows: each request copies the rows added since the last.
// It costs 30 bytes a row next to the columns' 40.
type pointsCache struct {
	mu     sync.Mutex
	cols   *incidents.Columns
	pts    hotspot.Points
	grid   []uint32 // grid dictionary code per row
	latest int64    // largest reported_at held, Unix seconds
}

// rows is one consistent snapshot of the cache and the View whose
// dictionaries decode its codes.
type rows struct {
	pts    hotspot.Points
	grid   []uint32
	latest int64
	view   incidents.View
}

func (c *pointsCache) sync(cols *incidents.Columns) rows {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cols != cols {
		// Empty, not nil: hotspot refuses a time filter on points without
		// times, even when there are no points.
		c.cols, c.grid, c.latest = cols, []uint32{}, 0
		c.pts = hotspot.Points{Lon: []float64{}, Lat: []float64{}, ReportedAt: []int64{}, Category: []uint16{}}
	}
	// Taken under the lock, so the view is never older than the rows held
	// and its dictionaries name every code in them.
	v := cols.View()
	for i := len(c.pts.Lon); i < v.Len(); i++ {
		t := v.ReportedAt(i)
		c.pts.Lon = append(c.pts.Lon, v.Lon(i))
		c.pts.Lat = append(c.pts.Lat, v.Lat(i))
		c.pts.ReportedAt = append(c.pts.ReportedAt, t)
		c.pts.Category = append(c.pts.Category, v.Category(i))
		c.grid = append(c.grid, v.Grid(i))
		c.latest = max(c.latest, t)
	}
	n := len(c.pts.Lon)
	// Full slice expressions: later appends write past n, never under a
	// reader's feet.
	return rows{
		pts: hotspot.Points{
			Lon: c.pts.Lon[:n:n], Lat: c.pts.Lat[:n:n],
			ReportedAt: c.pts.ReportedAt[:n:n], Category: c.pts.Category[:n:n],
		},
		grid:   c.grid[:n:n],
		latest: c.latest,
		view:   v,
	}
}

// points returns the incidents a key with this scope may analyse: all of
// them, or a copy of those whose grid lies in the scope's subtree.
// Unassigned incidents belong to no scope.
func (an *analytics) points(scope string) rows {
	r := an.pts.sync(an.s.b.Columns)
	if scope == "" {
		return r
	}
	in := make([]bool, len(r.view.Grids()))
	for i, code := range r.view.Grids() {
		in[i] = code != "" && strings.HasPrefix(code, scope)
	}
	out := hotspot.Points{Lon: []float64{}, Lat: []float64{}, ReportedAt: []int64{}, Category: []uint16{}}
	grid := []uint32{}
	for i, g := range r.grid {
		if int(g) < len(in) && in[g] {
			out.Lon = append(out.Lon, r.pts.Lon[i])
			out.Lat = append(out.Lat, r.pts.Lat[i])
			out.ReportedAt = append(out.ReportedAt, r.pts.ReportedAt[i])
			out.Category = append(out.Category, r.pts.Category[i])
			grid = append(grid, g)
		}
	}
	r.pts, r.grid = out, grid
	return r
}

// defaultEnd is where a period ends when the request does not say: the
// midnight (city time) after the latest incident, or now if that is
// earlier. Live data ends now; a historical or demo load ends with its
// last day rather than in an empty stretch after it.
func defaultEnd(latest int64, now time.Time) time.Time {
	if latest <= 0 {
		return now
	}
	d := time.Unix(latest, 0).In(cityZone)
	end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, cityZone)
	if end.After(now) {
		return now
	}
	return end
}

// categories resolves the category parameter: a comma-separated list of
// catalogue codes ("E0102"), "大类/小类" names or major classes (a code like
// "E01" or a major name like "市容环境", meaning all its minor classes).
// It returns the catalogue codes, nil for all.
func (an *analytics) categories(q *query, name string) map[string]bool {
	raw := q.str(name)
	if raw == "" {
		return nil
	}
	cat := an.s.b.Catalogue
	out := map[string]bool{}
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if c, ok := cat.Lookup(item); ok {
			out[c.Code] = true
			continue
		}
		found := false
		for _, c := range cat.All() {
			if strings.EqualFold(c.MajorCode(), item) || c.Major == item {
				out[c.Code] = true
				found = true
			}
		}
		if !found {
			q.fail(name, "%q is not a category code, a 大类/小类 name or a major class", item)
			return nil
		}
	}
	return out
}

// filter turns the period and categories into a hotspot.Filter over the
// columns' category dictionary. none is true when a category was asked
// that no incident has: nothing can match (an empty list would mean all).
func filterFor(from, to time.Time, cats map[string]bool, v incidents.View) (f hotspot.Filter, none bool) {
	f = hotspot.Filter{From: from, To: to}
	if cats == nil {
		return f, false
	}
	for code, c := range v.Categories() {
		if code > 0 && cats[c] {
			f.Categories = append(f.Categories, uint16(code))
		}
	}
	return f, len(f.Categories) == 0
}

// cellParams are the spatial parameters the hotspot and emerging endpoints
// share.
type cellParams struct {
	cellM float64
	bandM float64 // 0: hotspot's default band
	k     int     // > 0: k nearest neighbours instead of a band
}

func readCellParams(q *query) (cellParams, *Problem) {
	p := cellParams{cellM: defaultCellM}
	if v, ok := q.float("cell_m"); ok {
		p.cellM = v
	}
	if v, ok := q.float("band_m"); ok {
		p.bandM = v
	}
	p.k = q.int("k", 0, 0, math.MaxInt32)
	if q.err != nil {
		return p, q.err
	}
	switch {
	case p.cellM < minCellM || p.cellM > maxCellM:
		return p, unprocessable("cell_m %g is outside %g…%g metres", p.cellM, minCellM, maxCellM)
	case p.bandM != 0 && (p.bandM < p.cellM || p.bandM > maxBandCells*p.cellM):
		return p, unprocessable("band_m %g must be from cell_m (%g) to %d × cell_m", p.bandM, p.cellM, maxBandCells)
	case p.k > maxK:
		return p, unprocessable("k %d is more than %d neighbours", p.k, maxK)
	case p.k > 0 && p.bandM != 0:
		return p, unprocessable("give band_m or k, not both")
	}
	return p, nil
}

func (p cellParams) neighbours() hotspot.NeighbourOptions {
	return hotspot.NeighbourOptions{BandM: p.bandM, K: p.k}
}

// period reads from and to, checking from < to when both are given.
func readPeriod(q *query) (from, to time.Time, hasFrom, hasTo bool) {
	from, hasFrom = q.time("from")
	to, hasTo = q.time("to")
	if hasFrom && hasTo && !from.Before(to) && q.err == nil {
		q.err = unprocessable("from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, hasFrom, hasTo
}

// setTime is when the set that draws the jurisdiction must be in force:
// just before the end of the period (it is half-open), or now.
func setTime(to time.Time, hasTo bool) time.Time {
	if hasTo {
		return to.Add(-time.Nanosecond)
	}
	return time.Now()
}

// projectionMeta describes the cells' projection in responses, so clients
// can place cell centres in metres (hotspot/README.md gives the formulas).
type projectionMeta struct {
	Type      string  `json:"type"`
	Ellipsoid string  `json:"ellipsoid"`
	Lon0      float64 `json:"lon0"`
	Lat0      float64 `json:"lat0"`
}

func projectionOf(g *hotspot.Grid) projectionMeta {
	return projectionMeta{Type: "local_equirectangular", Ellipsoid: "WGS84", Lon0: g.Proj.Lon0, Lat0: g.Proj.Lat0}
}

// latticeMeta places the cells on their lattice: cell (col, row) has its
// south-west corner at (x0 + col·cell_m, y0 + row·cell_m) in the projection.
type latticeMeta struct {
	NX int     `json:"nx"`
	NY int     `json:"ny"`
	X0 float64 `json:"x0"`
	Y0 float64 `json:"y0"`
}

func latticeOf(g *hotspot.Grid) latticeMeta {
	return latticeMeta{NX: g.NX, NY: g.NY, X0: g.X0, Y0: g.Y0}
}

// appendCellPolygon writes cell i of g as a GeoJSON Polygon geometry, its
// corners to 1e-7° (about 1 cm, as the incidents are stored): shortest
// round-trip digits would make the response a third larger for nothing,
// and col, row and the lattice give the exact cell anyway.
func appendCellPolygon(buf []byte, g *hotspot.Grid, i int) []byte {
	// Counter-clockwise from the south-west corner, as Grid.Polygon, without
	// allocating the ring.
	b := g.Bound(i)
	ring := [5]orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}
	buf = append(buf, `{"type":"Polygon","coordinates":[[`...)
	for k, pt := range ring {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendFloat(buf, pt[0], 'f', 7, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, pt[1], 'f', 7, 64)
		buf = append(buf, ']')
	}
	return append(buf, "]]}"...)
}

// appendNumber writes v in its shortest exact form, null when JSON has no
// number for it.
func appendNumber(buf []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(buf, "null"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

// hotspotCells runs Gi* with the default band over cellM-metre cells of the
// jurisdiction (a's scope subtree for a scoped key) on the incidents of
// [from, to) (zero times leave an end open) of category (a catalogue code,
// name or major class; "" for all), for the hotspots tile layer. Every cell
// comes back, however few incidents it holds: the layer withholds small
// cells from viewers itself (tiles.HotspotOptions.MinCount).
func (s *Server) hotspotCells(ctx context.Context, a Access, from, to time.Time, category string, cellM float64) ([]tiles.HotCell, error) {
	return newAnalytics(s).hotspotCells(ctx, a, from, to, category, cellM)
}

func (an *analytics) hotspotCells(ctx context.Context, a Access, from, to time.Time, category string, cellM float64) ([]tiles.HotCell, error) {
	q := newQuery(map[string][]string{"category": {category}})
	cats := an.categories(q, "category")
	if q.err != nil {
		return nil, q.err
	}
	if cellM < minCellM || cellM > maxCellM {
		return nil, unprocessable("cell_m %g is outside %g…%g metres", cellM, minCellM, maxCellM)
	}
	ix, err := an.setAt(setTime(to, !to.IsZero()))
	if err != nil {
		return nil, err
	}
	g, err := an.grid(ix, a.Scope, cellM)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := an.hotspots(an.points(a.Scope), g, from, to, cats, hotspot.HotspotOptions{})
	if err != nil {
		return nil, err
	}
	cells := make([]tiles.HotCell, g.Len())
	for i := range cells {
		cells[i] = tiles.HotCell{Bound: g.Bound(i), Count: int(res.Counts[i]), Z: res.Z[i], P: res.P[i], Bin: res.Bins[i]}
	}
	return cells, nil
}

// hotspots runs the analysis on the rows r over g.
func (an *analytics) hotspots(r rows, g *hotspot.Grid, from, to time.Time, cats map[string]bool, opt hotspot.HotspotOptions) (*hotspot.HotspotResult, error) {
	if g.Len() < 3 {
		return nil, unprocessable("the jurisdiction holds %d cells of this size; Gi* needs at least 3", g.Len())
	}
	f, none := filterFor(from, to, cats, r.view)
	pts := r.pts
	if none {
		pts = hotspot.Points{Lon: []float64{}, Lat: []float64{}, ReportedAt: []int64{}, Category: []uint16{}}
	}
	res, err := g.Hotspots(pts, f, opt)
	if err != nil {
		return nil, unprocessable("%v", err)
	}
	return res, nil
}
