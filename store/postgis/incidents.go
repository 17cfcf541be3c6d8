package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

const incidentColumns = `id, external_id, category, source, description, reported_at, ST_X(geom), ST_Y(geom), grid_code,
status, deadline, filed_at, dispatched_at, handled_at, closed_at, reworks, extended`

func stagingColumns() []string {
	return []string{"ord", "id", "external_id", "category", "source", "description", "reported_at", "lon", "lat",
		"grid_code", "status", "deadline", "filed_at", "dispatched_at", "handled_at", "closed_at", "reworks", "extended"}
}

// ensurePartitions creates the monthly partitions the incidents need, each
// in its own short transaction under an advisory lock, so concurrent
// writers do not race to create the same one. A partition left empty by a
// batch that then failed is harmless.
func (s *Store) ensurePartitions(ctx context.Context, incs []*incidents.Incident) error {
	months := map[time.Time]bool{}
	for _, inc := range incs {
		t := inc.ReportedAt.UTC()
		months[time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)] = true
	}
	for m := range months {
		key := m.Format("2006-01")
		if _, ok := s.parts.Load(key); ok {
			continue
		}
		name := fmt.Sprintf("incidents_y%04dm%02d", m.Year(), int(m.Month()))
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockPartitions); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF incidents FOR VALUES FROM ('%s') TO ('%s')`,
				name, m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339)))
			return err
		})
		if err != nil {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
		s.parts.Store(key, struct{}{})
	}
	return nil
}

// InsertIncidents implements store.Store: the batch is copied into a
// session's staging table, the ids whose external id is new are claimed in
// incident_keys (ON CONFLICT DO NOTHING waits for, then yields to, a
// concurrent writer of the same external id), and only those rows move on
// into incidents.
func (s *Store) InsertIncidents(ctx context.Context, incs []*incidents.Incident) ([]store.InsertResult, error) {
	if len(incs) == 0 {
		return nil, nil
	}
	for i, inc := range incs {
		if err := store.CheckIncident(inc); err != nil {
			return nil, fmt.Errorf("insert incidents: item %d: %w", i, err)
		}
		store.NormalizeIncident(inc)
	}
	if err := s.ensurePartitions(ctx, incs); err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	results := make([]store.InsertResult, len(incs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Repeats of an external id within the batch take the first one's id.
		first := map[string]int{}
		var fresh []int
		for i, inc := range incs {
			if inc.ExternalID != "" {
				if j, ok := first[inc.ExternalID]; ok {
					results[i].ID = -int64(j) - 1
					continue
				}
				first[inc.ExternalID] = i
			}
			fresh = append(fresh, i)
		}
		var ids []int64
		if err := tx.QueryRow(ctx, "SELECT array_agg(nextval('incident_id_seq')) FROM generate_series(1, $1)", len(fresh)).Scan(&ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS incident_staging (
  ord integer, id bigint, external_id text, category text, source text, description text, reported_at timestamptz,
  lon float8, lat float8, grid_code text, status text, deadline timestamptz, filed_at timestamptz,
  dispatched_at timestamptz, handled_at timestamptz, closed_at timestamptz, reworks integer, extended boolean
) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		rows := make([][]any, len(fresh))
		for k, i := range fresh {
			inc := incs[i]
			rows[k] = []any{i, ids[k], nullable(inc.ExternalID), inc.Category, nullable(string(inc.Source)), nullable(inc.Description),
				inc.ReportedAt, inc.Lon, inc.Lat, nullable(inc.GridCode), string(inc.Status), inc.Deadline, inc.FiledAt,
				inc.DispatchedAt, inc.HandledAt, inc.ClosedAt, inc.Reworks, inc.Extended}
			results[i] = store.InsertResult{ID: ids[k], Created: true}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incident_staging"}, stagingColumns(), pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incident_keys (id, external_id, reported_at)
SELECT id, external_id, reported_at FROM incident_staging ORDER BY external_id ON CONFLICT (external_id) DO NOTHING`); err != nil {
			// Claiming external ids in one global order keeps two batches
			// that share some from deadlocking.
			return err
		}
		// Rows whose external id was already stored: report that id, drop
		// the row.
		existing, err := tx.Query(ctx, `DELETE FROM incident_staging s USING incident_keys k
WHERE k.external_id = s.external_id AND k.id <> s.id RETURNING s.ord, k.id`)
		if err != nil {
			return err
		}
		for existing.Next() {
			var ord int
			var id int64
			if err := existing.Scan(&ord, &id); err != nil {
				existing.Close()
				return err
			}
			results[ord] = store.InsertResult{ID: id}
		}
		existing.Close()
		if err := existing.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incidents (id, external_id, category, source, description, reported_at, geom,
  grid_code, status, deadline, filed_at, dispatched_at, handled_at, closed_at, reworks, extended)
SELECT id, external_id, category, source, description, reported_at, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
  grid_code, status, deadline, filed_at, dispatched_at, handled_at, closed_at, reworks, extended
FROM incident_staging`); err != nil {
			return err
		}
		for i, r := range results {
			if r.ID < 0 {
				results[i] = store.InsertResult{ID: results[-r.ID-1].ID}
			}
		}
		var history [][]any
		var created []int64
		for i, r := range results {
			if !r.Created {
				continue
			}
			created = append(created, r.ID)
			for _, h := range incs[i].History {
				history = append(history, []any{r.ID, h.At, nullable(h.By), nullable(string(h.From)), string(h.To), nullable(h.Note)})
			}
		}
		if len(history) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incident_history"},
				[]string{"incident_id", "at", "by", "from_status", "to_status", "note"}, pgx.CopyFromRows(history)); err != nil {
				return fmt.Errorf("copy history: %w", err)
			}
		}
		if len(created) > 0 {
			return s.notify(ctx, tx, store.Event{Kind: store.EventIncidents, IDs: created})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	for i, r := range results {
		incs[i].ID = r.ID
	}
	return results, nil
}

func scanIncident(row pgx.Row) (*incidents.Incident, error) {
	var (
		inc                     incidents.Incident
		ext, source, desc, grid *string
		status                  string
	)
	if err := row.Scan(&inc.ID, &ext, &inc.Category, &source, &desc, &inc.ReportedAt, &inc.Lon, &inc.Lat, &grid,
		&status, &inc.Deadline, &inc.FiledAt, &inc.DispatchedAt, &inc.HandledAt, &inc.ClosedAt, &inc.Reworks, &inc.Extended); err != nil {
		return nil, err
	}
	inc.ExternalID, inc.Source, inc.Description, inc.GridCode = deref(ext), incidents.Source(deref(source)), deref(desc), deref(grid)
	inc.Status = incidents.Status(status)
	inc.ReportedAt = inc.ReportedAt.UTC()
	inc.Deadline, inc.FiledAt, inc.DispatchedAt = utcPtr(inc.Deadline), utcPtr(inc.FiledAt), utcPtr(inc.DispatchedAt)
	inc.HandledAt, inc.ClosedAt = utcPtr(inc.HandledAt), utcPtr(inc.ClosedAt)
	return &inc, nil
}

// byID selects one incident; the reported_at from incident_keys lets the
// planner go to its partition.
const byID = "SELECT " + incidentColumns + " FROM incidents WHERE id = $1 AND reported_at = (SELECT reported_at FROM incident_keys WHERE id = $1)"

func loadIncident(ctx context.Context, tx pgx.Tx, id int64, lock bool) (*incidents.Incident, error) {
	q := byID
	if lock {
		q += " FOR UPDATE"
	}
	inc, err := scanIncident(tx.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, "SELECT at, by, from_status, to_status, note FROM incident_history WHERE incident_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h              incidents.Transition
			by, from, note *string
			to             string
		)
		if err := rows.Scan(&h.At, &by, &from, &to, &note); err != nil {
			return nil, err
		}
		h.At, h.By, h.From, h.To, h.Note = h.At.UTC(), deref(by), incidents.Status(deref(from)), incidents.Status(to), deref(note)
		inc.History = append(inc.History, h)
	}
	return inc, rows.Err()
}

// GetIncident implements store.Store.
func (s *Store) GetIncident(ctx context.Context, id int64) (*incidents.Incident, error) {
	var inc *incidents.Incident
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		inc, err = loadIncident(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get incident %d: %w", id, err)
	}
	return inc, nil
}

// QueryIncidents implements store.Store.
func (s *Store) QueryIncidents(ctx context.Context, q store.IncidentQuery) ([]*incidents.Incident, string, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if b := q.BBox; b != nil {
		// && narrows through the GiST index, but compares float4 boxes
		// rounded outward, so points up to about 1e-5° outside pass it;
		// the exact test on the point follows, containment in the closed
		// box as in the GeoPackage store.
		x0, y0, x1, y1 := arg(b.Min[0]), arg(b.Min[1]), arg(b.Max[0]), arg(b.Max[1])
		where = append(where, fmt.Sprintf("geom && ST_MakeEnvelope(%[1]s, %[2]s, %[3]s, %[4]s, 4326) AND ST_X(geom) BETWEEN %[1]s AND %[3]s AND ST_Y(geom) BETWEEN %[2]s AND %[4]s",
			x0, y0, x1, y1))
	}
	if q.From != nil {
		where = append(where, "reported_at >= "+arg(*q.From))
	}
	if q.To != nil {
		where = append(where, "reported_at < "+arg(*q.To))
	}
	if q.Category != "" {
		where = append(where, "category = "+arg(q.Category))
	}
	if q.GridPrefix != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q.GridPrefix)
		where = append(where, "grid_code LIKE "+arg(esc+"%"))
	}
	if q.Status != "" {
		where = append(where, "status = "+arg(string(q.Status)))
	}
	if q.IDs != nil {
		where = append(where, "id = ANY("+arg(q.IDs)+")")
	}
	if q.Cursor != "" {
		c, err := store.ParseCursor(q.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("query incidents: %w", err)
		}
		where = append(where, fmt.Sprintf("(reported_at, id) > (%s, %s)", arg(c.ReportedAt), arg(c.ID)))
	}
	limit := q.PageLimit()
	sqlText := "SELECT " + incidentColumns + " FROM incidents"
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY reported_at, id LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("query incidents: %w", err)
	}
	defer rows.Close()
	out, next, err := store.CollectPage(rows.Next, func() (*incidents.Incident, error) { return scanIncident(rows) }, rows.Err, limit)
	if err != nil {
		return nil, "", fmt.Errorf("query incidents: %w", err)
	}
	return out, next, nil
}

// UpdateIncident implements store.Store.
func (s *Store) UpdateIncident(ctx context.Context, id int64, fn func(*incidents.Incident) error) (*incidents.Incident, error) {
	var (
		inc   *incidents.Incident
		fnErr error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		inc, err = loadIncident(ctx, tx, id, true)
		if err != nil {
			return err
		}
		before := *inc
		before.History = append([]incidents.Transition(nil), inc.History...)
		if err := fn(inc); err != nil {
			fnErr = err
			return err
		}
		if err := store.CheckUpdate(&before, inc); err != nil {
			fnErr = err
			return err
		}
		if err := store.CheckIncident(inc); err != nil {
			return err
		}
		store.NormalizeIncident(inc)
		if _, err := tx.Exec(ctx, `UPDATE incidents SET category = $2, source = $3, description = $4, grid_code = $5,
status = $6, deadline = $7, filed_at = $8, dispatched_at = $9, handled_at = $10, closed_at = $11, reworks = $12, extended = $13
WHERE id = $1 AND reported_at = $14`, id, inc.Category, nullable(string(inc.Source)), nullable(inc.Description), nullable(inc.GridCode),
			string(inc.Status), inc.Deadline, inc.FiledAt, inc.DispatchedAt, inc.HandledAt, inc.ClosedAt, inc.Reworks, inc.Extended,
			inc.ReportedAt); err != nil {
			return err
		}
		for _, h := range inc.History[len(before.History):] {
			if _, err := tx.Exec(ctx, "INSERT INTO incident_history (incident_id, at, by, from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6)",
				id, h.At, nullable(h.By), nullable(string(h.From)), string(h.To), nullable(h.Note)); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, store.Event{Kind: store.EventIncidentUpdated, IDs: []int64{id}})
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	return inc, nil
}

// ScanIncidents implements store.Store.
func (s *Store) ScanIncidents(ctx context.Context, fn func(*incidents.Incident) error) error {
	rows, err := s.pool.Query(ctx, "SELECT "+incidentColumns+" FROM incidents ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return fmt.Errorf("scan incidents: %w", err)
		}
		if err := fn(inc); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan incidents: %w", err)
	}
	return nil
}
