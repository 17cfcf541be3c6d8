package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// incidentColumns reads the DATETIME columns through CAST: a column
// declared DATETIME is parsed by the driver with the generic time parser
// and handed on as time.Time, costing a microsecond a row on a million-row
// load; as plain text they go through parseTime's fixed-layout path.
const incidentColumns = `fid, geom, external_id, category, source, description, CAST(reported_at AS TEXT), grid_code, status,
CAST(deadline AS TEXT), CAST(filed_at AS TEXT), CAST(dispatched_at AS TEXT), CAST(handled_at AS TEXT), CAST(closed_at AS TEXT),
reworks, extended`

// insertColumns are the columns an insert binds, in order.
const insertColumns = "geom, external_id, category, source, description, reported_at, grid_code, status, deadline, filed_at, dispatched_at, handled_at, closed_at, reworks, extended"

const insertArity = 15

// rowsPerInsert is how many incidents one multi-row INSERT carries: large
// enough to spread the statement overhead, well under SQLite's 32766 bound
// variables.
const rowsPerInsert = 256

// bulkIndexThreshold is the batch size from which the R-tree is filled by
// the store (rtree.go) rather than by the per-row trigger; below it, the
// schema change that lifting the trigger means costs more than it saves.
const bulkIndexThreshold = 64

// InsertIncidents implements store.Store.
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
	// The transaction runs on a dedicated connection so that the row inserts
	// can use the driver connection directly (insertRows).
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	defer tx.Rollback()

	results := make([]store.InsertResult, len(incs))
	fresh, err := resolveExisting(ctx, tx, incs, results)
	if err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	bulk := len(fresh) >= bulkIndexThreshold
	if bulk {
		// The rows are indexed below in one pass instead of row by row.
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER rtree_incidents_geom_insert"); err != nil {
			return nil, fmt.Errorf("insert incidents: %w", err)
		}
	}
	if err := insertRows(ctx, conn, incs, fresh, results); err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	if bulk {
		if err := indexPoints(ctx, tx, incs, fresh, results); err != nil {
			return nil, fmt.Errorf("insert incidents: %w", err)
		}
		if _, err := tx.ExecContext(ctx, rtreeInsertTrigger("incidents", "geom", "fid")); err != nil {
			return nil, fmt.Errorf("insert incidents: %w", err)
		}
	}
	if err := insertHistory(ctx, tx, incs, fresh, results); err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	if len(fresh) > 0 {
		ext := [4]float64{incs[fresh[0]].Lon, incs[fresh[0]].Lon, incs[fresh[0]].Lat, incs[fresh[0]].Lat}
		for _, i := range fresh {
			ext[0], ext[1] = min(ext[0], incs[i].Lon), max(ext[1], incs[i].Lon)
			ext[2], ext[3] = min(ext[2], incs[i].Lat), max(ext[3], incs[i].Lat)
		}
		if err := touchContents(ctx, tx, "incidents", &ext); err != nil {
			return nil, fmt.Errorf("insert incidents: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	ids := make([]int64, 0, len(fresh))
	for i, r := range results {
		incs[i].ID = r.ID
		if r.Created {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) > 0 {
		s.publish(store.Event{Kind: store.EventIncidents, IDs: ids})
	}
	return results, nil
}

// resolveExisting fills results for the incidents whose external id is
// stored already or repeated earlier in the batch, and returns the indexes
// of the others, which are to be inserted.
func resolveExisting(ctx context.Context, tx *sql.Tx, incs []*incidents.Incident, results []store.InsertResult) ([]int, error) {
	var ext []string
	for _, inc := range incs {
		if inc.ExternalID != "" {
			ext = append(ext, inc.ExternalID)
		}
	}
	stored := map[string]int64{}
	if len(ext) > 0 {
		arr, err := json.Marshal(ext)
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT i.fid, i.external_id FROM json_each(?) j
JOIN incidents i ON i.external_id = j.value`, string(arr))
		if err != nil {
			return nil, fmt.Errorf("look up external ids: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var e string
			if err := rows.Scan(&id, &e); err != nil {
				return nil, fmt.Errorf("look up external ids: %w", err)
			}
			stored[e] = id
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("look up external ids: %w", err)
		}
	}
	firstInBatch := map[string]int{}
	fresh := make([]int, 0, len(incs))
	for i, inc := range incs {
		if inc.ExternalID == "" {
			fresh = append(fresh, i)
			continue
		}
		if id, ok := stored[inc.ExternalID]; ok {
			results[i] = store.InsertResult{ID: id}
			continue
		}
		if j, ok := firstInBatch[inc.ExternalID]; ok {
			results[i] = store.InsertResult{ID: -int64(j) - 1} // resolved once j has its id
			continue
		}
		firstInBatch[inc.ExternalID] = i
		fresh = append(fresh, i)
	}
	return fresh, nil
}

// insertRows inserts the fresh incidents with multi-row INSERTs. The writer
// holds the database's write lock for the whole transaction, so the rows of
// one statement get consecutive ids ending at last_insert_rowid.
//
// The statements run on the driver connection under conn's open
// transaction: database/sql would allocate and convert a fresh argument
// list of thousands of values for every statement, which costs as much as
// a tenth of the insert and feeds the garbage collector.
func insertRows(ctx context.Context, conn *sql.Conn, incs []*incidents.Incident, fresh []int, results []store.InsertResult) error {
	return conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		var full driver.StmtExecContext
		defer func() {
			if full != nil {
				full.(driver.Stmt).Close()
			}
		}()
		args := make([]driver.NamedValue, 0, rowsPerInsert*insertArity)
		for start := 0; start < len(fresh); start += rowsPerInsert {
			chunk := fresh[start:min(start+rowsPerInsert, len(fresh))]
			args = args[:0]
			for _, i := range chunk {
				args = appendInsertArgs(args, incs[i])
			}
			st := full
			if len(chunk) < rowsPerInsert || full == nil {
				ds, err := prep.PrepareContext(ctx, insertSQL(len(chunk)))
				if err != nil {
					return err
				}
				ex, ok := ds.(driver.StmtExecContext)
				if !ok {
					ds.Close()
					return fmt.Errorf("driver statement %T cannot execute with a context", ds)
				}
				if len(chunk) == rowsPerInsert {
					full = ex
				} else {
					defer ds.Close()
				}
				st = ex
			}
			res, err := st.ExecContext(ctx, args)
			if err != nil {
				return err
			}
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			first := last - int64(len(chunk)) + 1
			for k, i := range chunk {
				results[i] = store.InsertResult{ID: first + int64(k), Created: true}
			}
		}
		for i, r := range results {
			if r.ID < 0 { // a repeat of an external id earlier in the batch
				results[i] = store.InsertResult{ID: results[-r.ID-1].ID}
			}
		}
		return nil
	})
}

func indexPoints(ctx context.Context, tx *sql.Tx, incs []*incidents.Incident, fresh []int, results []store.InsertResult) error {
	rt, err := newRtreeBatch(ctx, tx, "rtree_incidents_geom")
	if err != nil {
		return err
	}
	defer rt.close()
	cells := make([]rcell, len(fresh))
	for k, i := range fresh {
		cells[k] = rcell{id: results[i].ID, box: boxOf(incs[i].Lon, incs[i].Lon, incs[i].Lat, incs[i].Lat)}
	}
	if err := rt.insertPoints(ctx, cells); err != nil {
		return err
	}
	return rt.flush(ctx)
}

// insertSQL is a multi-row INSERT. OR ROLLBACK spares SQLite the statement
// journal (a copy of every page the statement touches, kept to undo just
// that statement on a constraint failure): any failure here fails the whole
// batch, and its transaction is rolled back either way.
func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT OR ROLLBACK INTO incidents (" + insertColumns + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", insertArity), ",") + ")"
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// appendInsertArgs appends the insertColumns of inc as driver values,
// numbered on from the arguments already in args.
func appendInsertArgs(args []driver.NamedValue, inc *incidents.Incident) []driver.NamedValue {
	var extended int64
	if inc.Extended {
		extended = 1
	}
	for _, v := range [insertArity]driver.Value{
		encodePoint(inc.Lon, inc.Lat), nullString(inc.ExternalID), inc.Category, nullString(string(inc.Source)),
		nullString(inc.Description), fmtTime(inc.ReportedAt), nullString(inc.GridCode), string(inc.Status),
		fmtTimePtr(inc.Deadline), fmtTimePtr(inc.FiledAt), fmtTimePtr(inc.DispatchedAt), fmtTimePtr(inc.HandledAt),
		fmtTimePtr(inc.ClosedAt), int64(inc.Reworks), extended,
	} {
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
	}
	return args
}

func insertHistory(ctx context.Context, tx *sql.Tx, incs []*incidents.Incident, fresh []int, results []store.InsertResult) error {
	var st *sql.Stmt
	for _, i := range fresh {
		for _, h := range incs[i].History {
			if st == nil {
				var err error
				st, err = tx.PrepareContext(ctx, "INSERT INTO incident_history (incident_id, at, by, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?)")
				if err != nil {
					return err
				}
				defer st.Close()
			}
			if _, err := st.ExecContext(ctx, results[i].ID, fmtTime(h.At), nullString(h.By), nullString(string(h.From)), string(h.To), nullString(h.Note)); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		}
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanIncident(sc scanner) (*incidents.Incident, error) {
	var (
		inc                                        incidents.Incident
		geom                                       []byte
		ext, source, desc, grid                    sql.NullString
		reported, status                           string
		deadline, filed, dispatched, handled, clsd sql.NullString
		extended                                   bool
	)
	if err := sc.Scan(&inc.ID, &geom, &ext, &inc.Category, &source, &desc, &reported, &grid, &status,
		&deadline, &filed, &dispatched, &handled, &clsd, &inc.Reworks, &extended); err != nil {
		return nil, err
	}
	var err error
	if geom != nil {
		if inc.Lon, inc.Lat, err = decodePoint(geom); err != nil {
			return nil, fmt.Errorf("incident %d: %w", inc.ID, err)
		}
	}
	inc.ExternalID, inc.Source, inc.Description, inc.GridCode = ext.String, incidents.Source(source.String), desc.String, grid.String
	inc.Status = incidents.Status(status)
	inc.Extended = extended
	if inc.ReportedAt, err = parseTime(reported); err != nil {
		return nil, fmt.Errorf("incident %d: reported_at: %w", inc.ID, err)
	}
	for _, f := range []struct {
		name string
		dst  **time.Time
		src  sql.NullString
	}{
		{"deadline", &inc.Deadline, deadline}, {"filed_at", &inc.FiledAt, filed},
		{"dispatched_at", &inc.DispatchedAt, dispatched}, {"handled_at", &inc.HandledAt, handled},
		{"closed_at", &inc.ClosedAt, clsd},
	} {
		if *f.dst, err = parseNullTime(f.src); err != nil {
			return nil, fmt.Errorf("incident %d: %s: %w", inc.ID, f.name, err)
		}
	}
	return &inc, nil
}

// GetIncident implements store.Store.
func (s *Store) GetIncident(ctx context.Context, id int64) (*incidents.Incident, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("get incident %d: %w", id, err)
	}
	defer tx.Rollback()
	inc, err := loadIncident(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("get incident %d: %w", id, err)
	}
	return inc, nil
}

func loadIncident(ctx context.Context, tx *sql.Tx, id int64) (*incidents.Incident, error) {
	inc, err := scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE fid = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT CAST(at AS TEXT), by, from_status, to_status, note FROM incident_history WHERE incident_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			at, to         string
			by, from, note sql.NullString
		)
		if err := rows.Scan(&at, &by, &from, &to, &note); err != nil {
			return nil, err
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		inc.History = append(inc.History, incidents.Transition{At: t, By: by.String,
			From: incidents.Status(from.String), To: incidents.Status(to), Note: note.String})
	}
	return inc, rows.Err()
}

// QueryIncidents implements store.Store.
func (s *Store) QueryIncidents(ctx context.Context, q store.IncidentQuery) ([]*incidents.Incident, string, error) {
	var (
		where []string
		args  []any
	)
	if q.BBox != nil {
		// The R-tree narrows by box (its float32 boxes are rounded outward);
		// the exact test on the point follows.
		where = append(where, `fid IN (SELECT id FROM rtree_incidents_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)
 AND ST_MinX(geom) BETWEEN ? AND ? AND ST_MinY(geom) BETWEEN ? AND ?`)
		b := q.BBox
		args = append(args, b.Max[0], b.Min[0], b.Max[1], b.Min[1], b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	}
	if q.From != nil {
		where = append(where, "reported_at >= ?")
		args = append(args, fmtTime(*q.From))
	}
	if q.To != nil {
		where = append(where, "reported_at < ?")
		args = append(args, fmtTime(*q.To))
	}
	if q.Category != "" {
		where = append(where, "category = ?")
		args = append(args, q.Category)
	}
	if q.GridPrefix != "" {
		where = append(where, "substr(grid_code, 1, ?) = ?")
		args = append(args, len(q.GridPrefix), q.GridPrefix)
	}
	if q.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(q.Status))
	}
	if q.IDs != nil {
		arr, err := json.Marshal(q.IDs)
		if err != nil {
			return nil, "", fmt.Errorf("query incidents: %w", err)
		}
		where = append(where, "fid IN (SELECT value FROM json_each(?))")
		args = append(args, string(arr))
	}
	if q.Cursor != "" {
		c, err := store.ParseCursor(q.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("query incidents: %w", err)
		}
		at := fmtTime(c.ReportedAt)
		where = append(where, "(reported_at > ? OR (reported_at = ? AND fid > ?))")
		args = append(args, at, at, c.ID)
	}
	limit := q.PageLimit()
	sqlText := "SELECT " + incidentColumns + " FROM incidents"
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY reported_at, fid LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, sqlText, args...)
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	defer tx.Rollback()
	inc, err := loadIncident(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	before := *inc
	before.History = append([]incidents.Transition(nil), inc.History...)
	if err := fn(inc); err != nil {
		return nil, err
	}
	if err := store.CheckUpdate(&before, inc); err != nil {
		return nil, err
	}
	if err := store.CheckIncident(inc); err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	store.NormalizeIncident(inc)
	extended := 0
	if inc.Extended {
		extended = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET category = ?, source = ?, description = ?, grid_code = ?,
status = ?, deadline = ?, filed_at = ?, dispatched_at = ?, handled_at = ?, closed_at = ?, reworks = ?, extended = ?
WHERE fid = ?`, inc.Category, nullString(string(inc.Source)), nullString(inc.Description), nullString(inc.GridCode),
		string(inc.Status), fmtTimePtr(inc.Deadline), fmtTimePtr(inc.FiledAt), fmtTimePtr(inc.DispatchedAt),
		fmtTimePtr(inc.HandledAt), fmtTimePtr(inc.ClosedAt), inc.Reworks, extended, id); err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	for _, h := range inc.History[len(before.History):] {
		if _, err := tx.ExecContext(ctx, "INSERT INTO incident_history (incident_id, at, by, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?)",
			id, fmtTime(h.At), nullString(h.By), nullString(string(h.From)), string(h.To), nullString(h.Note)); err != nil {
			return nil, fmt.Errorf("update incident %d: history: %w", id, err)
		}
	}
	if err := touchContents(ctx, tx, "incidents", nil); err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update incident %d: %w", id, err)
	}
	s.publish(store.Event{Kind: store.EventIncidentUpdated, IDs: []int64{id}})
	return inc, nil
}

// ScanIncidents implements store.Store.
func (s *Store) ScanIncidents(ctx context.Context, fn func(*incidents.Incident) error) error {
	rows, err := s.r.QueryContext(ctx, "SELECT "+incidentColumns+" FROM incidents ORDER BY fid")
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
