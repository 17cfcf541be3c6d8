package api

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// rowFilter selects rows of the incident columns. The columns are the
// index that OGC, Open311 and the tiles page and count over; the store
// supplies the whole incidents of the page afterwards (hydrate).
type rowFilter struct {
	bbox     *orb.Bound
	from, to int64 // reported_at in [from, to), Unix seconds
	category string
	prefix   string             // grid code prefix; "" for all
	statuses []incidents.Status // nil for all
}

func newRowFilter() rowFilter { return rowFilter{from: math.MinInt64, to: math.MaxInt64} }

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
	if t := v.ReportedAt(i); t < c.f.from || t >= c.f.to {
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
