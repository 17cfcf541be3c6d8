package store

import (
	"context"
	"fmt"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
)

// LoadColumns reads every incident into new in-memory columns, as a server
// does at start-up.
func LoadColumns(ctx context.Context, s Store) (*incidents.Columns, error) {
	cols := incidents.NewColumns()
	err := s.ScanIncidents(ctx, func(inc *incidents.Incident) error {
		_, err := cols.Append(inc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load columns: %w", err)
	}
	return cols, nil
}

// PublishedSets returns every published grid set with its grids, oldest
// first: what the geocoding index needs to answer for any time.
func PublishedSets(ctx context.Context, s Store) ([]*grids.Set, error) {
	list, err := s.ListGridSets(ctx)
	if err != nil {
		return nil, fmt.Errorf("published sets: %w", err)
	}
	var out []*grids.Set
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Status != grids.StatusPublished {
			continue
		}
		set, err := s.GetGridSet(ctx, list[i].ID)
		if err != nil {
			return nil, fmt.Errorf("published sets: %w", err)
		}
		out = append(out, set)
	}
	return out, nil
}

// SyncColumns brings cols up to date with the incidents an event names:
// new ones are appended, changed ones updated. For EventResync it rereads
// the whole store. Other events are ignored.
func SyncColumns(ctx context.Context, s Store, cols *incidents.Columns, e Event) error {
	apply := func(inc *incidents.Incident) error {
		added, err := cols.Append(inc)
		if err != nil || added {
			return err
		}
		_, err = cols.Update(inc)
		return err
	}
	switch e.Kind {
	case EventResync:
		if err := s.ScanIncidents(ctx, apply); err != nil {
			return fmt.Errorf("sync columns: %w", err)
		}
		return nil
	case EventIncidents, EventIncidentUpdated:
	default:
		return nil
	}
	for start := 0; start < len(e.IDs); start += MaxLimit {
		ids := e.IDs[start:min(start+MaxLimit, len(e.IDs))]
		items, _, err := s.QueryIncidents(ctx, IncidentQuery{IDs: ids, Limit: MaxLimit})
		if err != nil {
			return fmt.Errorf("sync columns: %w", err)
		}
		for _, inc := range items {
			if err := apply(inc); err != nil {
				return fmt.Errorf("sync columns: %w", err)
			}
		}
	}
	return nil
}
