package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// Backend joins the store to what gridd holds in memory: the registry of
// published grid sets (the geocoder) and the incident columns (analytics).
// Writes go to the store first; memory follows once the store has said yes,
// and follows the changes other replicas make through the store's events.
type Backend struct {
	Store     store.Store
	Registry  *grids.Registry
	Columns   *incidents.Columns
	Catalogue *incidents.Catalogue
	log       *slog.Logger

	mu      sync.Mutex // serialises reloads
	version uint64     // bumped on every change that tiles and caches see
	onEvent []func(store.Event)
}

// OpenBackend loads the published sets and every incident from st.
func OpenBackend(ctx context.Context, st store.Store, log *slog.Logger) (*Backend, error) {
	if log == nil {
		log = slog.Default()
	}
	b := &Backend{
		Store:     st,
		Registry:  grids.NewRegistry(grids.IndexOptions{}),
		Catalogue: incidents.Builtin(),
		log:       log,
	}
	if err := b.ReloadSets(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	cols, err := store.LoadColumns(ctx, st)
	if err != nil {
		return nil, err
	}
	b.Columns = cols
	log.Info("loaded incidents", "count", b.Columns.Len(), "ms", time.Since(start).Milliseconds(), "column_bytes", b.Columns.Bytes())
	return b, nil
}

// ReloadSets reads the published grid sets from the store into the registry.
func (b *Backend) ReloadSets(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	metas, err := b.Store.ListGridSets(ctx)
	if err != nil {
		return fmt.Errorf("list grid sets: %w", err)
	}
	known := map[int64]*grids.Set{}
	for _, s := range b.Registry.Sets() {
		known[s.ID] = s
	}
	var sets []*grids.Set
	for _, m := range metas {
		if m.Status != grids.StatusPublished {
			continue
		}
		if k, ok := known[m.ID]; ok {
			// Grids of a published set never change; only its end may.
			cp := *k
			cp.EffectiveTo = m.EffectiveTo
			sets = append(sets, &cp)
			continue
		}
		full, err := b.Store.GetGridSet(ctx, m.ID)
		if err != nil {
			return fmt.Errorf("load grid set %d: %w", m.ID, err)
		}
		sets = append(sets, full)
	}
	if err := b.Registry.Replace(sets); err != nil {
		return fmt.Errorf("index grid sets: %w", err)
	}
	b.version++
	return nil
}

// Geocode finds the grid of a WGS84 point at a time; "" when none.
func (b *Backend) Geocode(lon, lat float64, at time.Time) string {
	return b.Registry.LocateCode(lon, lat, at)
}

// IngestItem is one incident of a batch and where it came from.
type IngestItem struct {
	Line  int // 1-based line of an NDJSON/CSV body; 0 for a single object
	Input incidents.Input
}

// IngestResult tells what became of one incident.
type IngestResult struct {
	Line     int    `json:"line,omitempty"`
	ID       int64  `json:"id,omitempty"`
	Created  bool   `json:"created"`
	GridCode string `json:"grid_code,omitempty"`
	Status   string `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ErrBatchRejected is returned, with per-line results, when some inputs
// are bad: nothing of the batch is stored.
var ErrBatchRejected = errors.New("batch has bad items; nothing was stored")

// Ingest validates, converts, geocodes and stores a batch, all or nothing:
// a batch with any bad line stores none of its lines (the client fixes the
// lines named and sends the batch again; resending is safe, external ids
// make it idempotent).
func (b *Backend) Ingest(ctx context.Context, items []IngestItem, by string) ([]IngestResult, error) {
	res := make([]IngestResult, len(items))
	incs := make([]*incidents.Incident, 0, len(items))
	bad := false
	for i, it := range items {
		res[i].Line = it.Line
		inc, err := it.Input.Validate(b.Catalogue)
		if err != nil {
			res[i].Error = err.Error()
			bad = true
			continue
		}
		if inc.GridCode == "" {
			inc.GridCode = b.Geocode(inc.Lon, inc.Lat, inc.ReportedAt)
		}
		inc.StartHistory(by)
		incs = append(incs, inc)
	}
	if bad {
		return res, ErrBatchRejected
	}
	ins, err := b.Store.InsertIncidents(ctx, incs)
	if err != nil {
		return nil, err
	}
	for i, r := range ins {
		res[i].ID, res[i].Created = r.ID, r.Created
		res[i].GridCode = incs[i].GridCode
		res[i].Status = string(incs[i].Status)
		if r.Created {
			if _, err := b.Columns.Append(incs[i]); err != nil {
				b.log.Error("append incident to columns", "id", r.ID, "err", err)
			}
		}
	}
	b.bump()
	return res, nil
}

func (b *Backend) bump() {
	b.mu.Lock()
	b.version++
	b.mu.Unlock()
}

// Version changes whenever grids or incidents change.
func (b *Backend) Version() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// OnEvent registers fn to run after each store event is applied.
func (b *Backend) OnEvent(fn func(store.Event)) {
	b.mu.Lock()
	b.onEvent = append(b.onEvent, fn)
	b.mu.Unlock()
}

// Watch applies the store's events until ctx ends: sets published and
// incidents written through other replicas.
func (b *Backend) Watch(ctx context.Context) {
	for ev := range b.Store.Subscribe(ctx) {
		if err := b.apply(ctx, ev); err != nil {
			b.log.Error("apply store event", "kind", ev.Kind, "err", err)
		}
		b.mu.Lock()
		fns := append([]func(store.Event){}, b.onEvent...)
		b.mu.Unlock()
		for _, fn := range fns {
			fn(ev)
		}
	}
}

func (b *Backend) apply(ctx context.Context, ev store.Event) error {
	switch ev.Kind {
	case store.EventGridSetPublished, store.EventResync:
		if err := b.ReloadSets(ctx); err != nil {
			return err
		}
	case store.EventIncidents, store.EventIncidentUpdated:
		if ev.Local {
			return nil // already applied in memory by this server
		}
	default:
		return nil
	}
	if err := store.SyncColumns(ctx, b.Store, b.Columns, ev); err != nil {
		return err
	}
	b.bump()
	return nil
}

// ImportGrids stores a grid set as a draft and, with publish, puts it in
// force from `from`. The registry follows.
func (b *Backend) ImportGrids(ctx context.Context, name string, gs []*grids.Grid, publish bool, from time.Time) (int64, error) {
	id, err := b.Store.CreateGridSet(ctx, &grids.Set{Name: name, Grids: gs})
	if err != nil {
		return 0, err
	}
	if publish {
		if err := b.Store.PublishGridSet(ctx, id, from); err != nil {
			return id, err
		}
		if err := b.ReloadSets(ctx); err != nil {
			return id, err
		}
	}
	return id, nil
}
