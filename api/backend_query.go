package api

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// rowFilter selects rows of the incident columns. The columns are the
// index that OGC, Open311 and the tiles page and count over; the store
// supplies the whole incidents of the page afterwards (hydrate).
type rowFilter struct {
	bbox     *orb.Bound
	from, to int64 // reported_at in [from, to), Unix milliseconds
	category string
	prefix   string             // grid code prefix; "" for all
	statuses []incidents.Status // nil for all
}

func newRowFilter() rowFilter { return rowFilter{from: math.MinInt64, to: math.MaxInt64} }

// milliOfSecond is Unix second s in milliseconds, the unbounded ends
// (math.MinInt64, math.MaxInt64) kept as they are.
func milliOfSecond(s int64) int64 {
	switch {
	case s <= math.MinInt64/1000:
		return math.MinInt64
	case s >= math.MaxInt64/1000:
		return math.MaxInt64
	}
	return s * 1000
}

// compiledRows is a rowFilter resolved against one View's dictionaries.
type compiledRows struct {
	f        rowFilter
	v        incidents.View
	cat      int // dictionary code, -1 for any
	none     bool
	grids    []bool // per grid dictionary code; nil for any
	statuses [8]bool
	anyState bool
}

func (f rowFilter) compile(v incidents.View) compiledRows {
	c := compiledRows{f: f, v: v, cat: -1, anyState: f.statuses == nil}
	if f.category != "" {
		c.cat = slices.Index(v.Categories(), f.category)
		if c.cat < 0 {
			c.none = true
		}
	}
	if f.prefix != "" {
		gs := v.Grids()
		c.grids = make([]bool, len(gs))
		for i, g := range gs {
			c.grids[i] = len(g) >= len(f.prefix) && g[:len(f.prefix)] == f.prefix
		}
	}
	for _, s := range f.statuses {
		c.statuses[incidents.StatusCode(s)] = true
	}
	if f.from >= f.to {
		c.none = true
	}
	return c
}

func (c *compiledRows) match(i int) bool {
	v := c.v
	if t := v.ReportedAtMilli(i); t < c.f.from || t >= c.f.to {
		return false
	}
	if c.cat >= 0 && int(v.Category(i)) != c.cat {
		return false
	}
	if c.grids != nil {
		g := int(v.Grid(i))
		// Rows may name grids added to the dictionary after compile.
		if g >= len(c.grids) || !c.grids[g] {
			return false
		}
	}
	if !c.anyState && !c.statuses[v.StatusCode(i)] {
		return false
	}
	if b := c.f.bbox; b != nil {
		lon, lat := v.Lon(i), v.Lat(i)
		if lon < b.Min[0] || lon > b.Max[0] || lat < b.Min[1] || lat > b.Max[1] {
			return false
		}
	}
	return true
}

// selectRows returns the rows of v passing f, in row order, skipping the
// first offset matches and keeping at most limit (all when limit < 0), and
// the total number of matches.
func selectRows(ctx context.Context, v incidents.View, f rowFilter, offset, limit int) (rows []int, matched int, err error) {
	c := f.compile(v)
	if c.none {
		return nil, 0, nil
	}
	n := v.Len()
	for i := 0; i < n; i++ {
		if i&0xffff == 0 && ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if !c.match(i) {
			continue
		}
		if matched >= offset && (limit < 0 || len(rows) < limit) {
			rows = append(rows, i)
		}
		matched++
	}
	return rows, matched, nil
}

// rowIDs is the incident ids of rows of v, in their order.
func rowIDs(v incidents.View, rows []int) []int64 {
	ids := make([]int64, len(rows))
	for j, i := range rows {
		ids[j] = v.ID(i)
	}
	return ids
}

// hydrate reads whole incidents (without history) for ids from the store,
// in the order given; ids the store no longer has are left out.
func (b *Backend) hydrate(ctx context.Context, ids []int64) ([]*incidents.Incident, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byID := make(map[int64]*incidents.Incident, len(ids))
	for start := 0; start < len(ids); start += store.MaxLimit {
		part := ids[start:min(len(ids), start+store.MaxLimit)]
		q := store.IncidentQuery{IDs: part, Limit: store.MaxLimit}
		for {
			page, next, err := b.Store.QueryIncidents(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("read incidents: %w", err)
			}
			for _, inc := range page {
				byID[inc.ID] = inc
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
	}
	out := make([]*incidents.Incident, 0, len(ids))
	for _, id := range ids {
		if inc, ok := byID[id]; ok {
			out = append(out, inc)
		}
	}
	return out, nil
}

// UpdateIncident changes one incident through fn in the store and, once
// the store has said yes, in the columns; the data version moves on.
func (b *Backend) UpdateIncident(ctx context.Context, id int64, fn func(*incidents.Incident) error) (*incidents.Incident, error) {
	inc, err := b.Store.UpdateIncident(ctx, id, fn)
	if err != nil {
		return nil, err
	}
	if _, err := b.Columns.Update(inc); err != nil {
		b.log.Error("update incident in columns", "id", id, "err", err)
	}
	b.bump()
	return inc, nil
}

// listKey is a place in the incident list's order: reported_at in Unix
// milliseconds (the stores' precision), then id.
type listKey struct{ ms, id int64 }

func (a listKey) less(b listKey) bool { return a.ms < b.ms || (a.ms == b.ms && a.id < b.id) }

// listPage asks for one page of the incident list: rows after the
// cursor's place when there is one, at most limit of them.
type listPage struct {
	after *listKey
	limit int
}

// pageRows returns the rows of v passing f on page p, in (reported_at, id)
// order, and whether rows follow the last of them. A max-heap keeps the
// limit+1 first keys seen; a row whose key is past the heap's largest is
// dropped before the filter runs. Blocks of rows are visited in the order
// of their earliest report, and the scan stops at a block that starts after
// a full heap's largest key: when reports arrive roughly in time order, a
// page reads a block or two, not every row.
func pageRows(ctx context.Context, v incidents.View, f rowFilter, p listPage) (rows []int, more bool, err error) {
	if p.limit <= 0 {
		return nil, false, nil
	}
	c := f.compile(v)
	if c.none {
		return nil, false, nil
	}
	lowMs := f.from // no row before it can be on the page
	if p.after != nil {
		lowMs = max(lowMs, p.after.ms)
	}
	type block struct {
		b       int
		firstMs int64
	}
	var blocks []block
	for b := 0; b < v.Blocks(); b++ {
		first, last := v.BlockReported(b)
		firstMs, lastMs := first*1000, last*1000+999
		if lastMs < lowMs || firstMs >= f.to {
			continue
		}
		blocks = append(blocks, block{b, firstMs})
	}
	slices.SortFunc(blocks, func(a, b block) int { return cmp.Compare(a.firstMs, b.firstMs) })

	type entry struct {
		k   listKey
		row int
	}
	keep := p.limit + 1
	h := make([]entry, 0, min(keep, 1024))
	// down restores the max-heap from the root after it was replaced.
	down := func() {
		for i := 0; ; {
			l, r, top := 2*i+1, 2*i+2, i
			if l < len(h) && h[top].k.less(h[l].k) {
				top = l
			}
			if r < len(h) && h[top].k.less(h[r].k) {
				top = r
			}
			if top == i {
				return
			}
			h[i], h[top] = h[top], h[i]
			i = top
		}
	}
	for _, bl := range blocks {
		if len(h) == keep && bl.firstMs > h[0].k.ms {
			break // this block and those after it start past the page
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		start, end := v.BlockRows(bl.b)
		for i := start; i < end; i++ {
			k := listKey{v.ReportedAtMilli(i), v.ID(i)}
			if p.after != nil && !p.after.less(k) {
				continue
			}
			if len(h) == keep && !k.less(h[0].k) {
				continue
			}
			if !c.match(i) {
				continue
			}
			if len(h) < keep {
				h = append(h, entry{k, i})
				for j := len(h) - 1; j > 0; { // up
					parent := (j - 1) / 2
					if !h[parent].k.less(h[j].k) {
						break
					}
					h[parent], h[j] = h[j], h[parent]
					j = parent
				}
				continue
			}
			h[0] = entry{k, i}
			down()
		}
	}
	slices.SortFunc(h, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.k.ms, b.k.ms), cmp.Compare(a.k.id, b.k.id))
	})
	more = len(h) > p.limit
	if more {
		h = h[:p.limit]
	}
	rows = make([]int, len(h))
	for j, e := range h {
		rows[j] = e.row
	}
	return rows, more, nil
}

// listIncidents answers a store.IncidentQuery (without IDs) as the store
// would, in (reported_at, id) pages, from the in-memory columns: they find
// the page's rows, the store gives their whole incidents (hydrate). The
// columns are the index the list pages over, as OGC and Open311 do, so the
// store needs no time index of its own for it. Incidents the columns hold
// but the store no longer has are left out of their page.
func (b *Backend) listIncidents(ctx context.Context, q store.IncidentQuery) ([]*incidents.Incident, string, error) {
	f := newRowFilter()
	f.bbox = q.BBox
	f.category = q.Category
	f.prefix = q.GridPrefix
	if q.Status != "" {
		f.statuses = []incidents.Status{q.Status}
	}
	if q.From != nil {
		f.from = q.From.UnixMilli()
	}
	if q.To != nil {
		f.to = q.To.UnixMilli()
	}
	p := listPage{limit: q.PageLimit()}
	if q.Cursor != "" {
		c, err := store.ParseCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		p.after = &listKey{c.ReportedAt.UnixMilli(), c.ID}
	}
	v := b.Columns.View()
	rows, more, err := pageRows(ctx, v, f, p)
	if err != nil {
		return nil, "", err
	}
	ids := rowIDs(v, rows)
	incs, err := b.hydrate(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		last := rows[len(rows)-1]
		next = store.Cursor{ReportedAt: time.UnixMilli(v.ReportedAtMilli(last)).UTC(), ID: v.ID(last)}.Encode()
	}
	return incs, next, nil
}
