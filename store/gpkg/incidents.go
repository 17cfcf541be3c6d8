package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
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

// insertColumns are the columns an insert writes, in the order
// appendInsertValues gives them.
var insertColumns = []string{"geom", "external_id", "category", "source", "description", "reported_at", "grid_code",
	"status", "deadline", "filed_at", "dispatched_at", "handled_at", "closed_at", "reworks", "extended"}

// historyColumns are the columns a history insert writes, in order.
var historyColumns = []string{"incident_id", "at", "by", "from_status", "to_status", "note"}

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
	// can use the driver connection directly (bulkInsert).
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert incidents: %w", err)
	}
	defer conn.Close()
	// A large batch is first written without looking its external ids up,
	// one index probe a row: the unique index refuses a stored id all the
	// same, which rolls the transaction back at once, and the batch then
	// runs again with the look-up. New incidents, what an import mostly
	// brings, so cost one probe instead of two; a batch sent again costs a
	// false start.
	lookUp := len(incs) < bulkIndexThreshold
	if !lookUp {
		// Every foreign key such a batch writes, a history entry's
		// incident_id, is the id of an incident the same transaction has
		// just inserted. Checking each would cost a cursor opened on
		// incidents and a search a history row, near a third of what the
		// history insert costs.
		if err := setForeignKeys(ctx, conn, false); err != nil {
			return nil, fmt.Errorf("insert incidents: %w", err)
		}
	}
	results, fresh, err := insertBatch(ctx, conn, incs, lookUp)
	if !lookUp && isUniqueViolation(err) {
		results, fresh, err = insertBatch(ctx, conn, incs, true)
	}
	if !lookUp {
		err = errors.Join(err, setForeignKeys(context.WithoutCancel(ctx), conn, true))
	}
	if err != nil {
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

// setForeignKeys turns the enforcement of foreign keys on conn on or
// off. SQLite ignores the pragma inside a transaction, so it is set
// between them. Where it cannot be turned back on, the connection is
// discarded, and the next one opens with foreign_keys(1).
func setForeignKeys(ctx context.Context, conn *sql.Conn, on bool) error {
	q := "PRAGMA foreign_keys = 0"
	if on {
		q = "PRAGMA foreign_keys = 1"
	}
	_, err := conn.ExecContext(ctx, q)
	if err != nil && on {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// insertBatch writes incs in one transaction on conn and returns their
// results and the indexes of those inserted. Without lookUp it takes every
// external id for new, and a stored one fails the transaction with a
// unique constraint violation.
func insertBatch(ctx context.Context, conn *sql.Conn, incs []*incidents.Incident, lookUp bool) ([]store.InsertResult, []int, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()

	results := make([]store.InsertResult, len(incs))
	stored := map[string]int64{}
	if lookUp {
		if stored, err = storedExternalIDs(ctx, tx, incs); err != nil {
			return nil, nil, err
		}
	}
	fresh := resolveExisting(incs, stored, results)
	var index *pointIndex
	if len(fresh) >= bulkIndexThreshold {
		// The rows are indexed below in one pass instead of row by row.
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER rtree_incidents_geom_insert"); err != nil {
			return nil, nil, err
		}
		if index, err = startPointIndex(ctx, tx, incs, fresh); err != nil {
			return nil, nil, err
		}
		defer index.close()
	}
	if err := conn.Raw(func(dc any) error { return insertRows(ctx, dc, incs, fresh, results) }); err != nil {
		return nil, nil, err
	}
	if index != nil {
		if err := index.finish(ctx, fresh, results); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, rtreeInsertTrigger("incidents", "geom", "fid")); err != nil {
			return nil, nil, err
		}
	}
	by, started, rest := splitStarted(incs, fresh)
	if err := insertStartedHistory(ctx, tx, by, started, results); err != nil {
		return nil, nil, err
	}
	if err := conn.Raw(func(dc any) error { return insertHistory(ctx, dc, incs, rest, results) }); err != nil {
		return nil, nil, err
	}
	if len(fresh) > 0 {
		ext := [4]float64{incs[fresh[0]].Lon, incs[fresh[0]].Lon, incs[fresh[0]].Lat, incs[fresh[0]].Lat}
		for _, i := range fresh {
			ext[0], ext[1] = min(ext[0], incs[i].Lon), max(ext[1], incs[i].Lon)
			ext[2], ext[3] = min(ext[2], incs[i].Lat), max(ext[3], incs[i].Lat)
		}
		if err := touchContents(ctx, tx, "incidents", &ext); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	return results, fresh, nil
}

// storedExternalIDs looks up which external ids of incs are stored, and
// their incidents' ids.
func storedExternalIDs(ctx context.Context, tx *sql.Tx, incs []*incidents.Incident) (map[string]int64, error) {
	var ext []string
	for _, inc := range incs {
		if inc.ExternalID != "" {
			ext = append(ext, inc.ExternalID)
		}
	}
	stored := map[string]int64{}
	if len(ext) == 0 {
		return stored, nil
	}
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
	return stored, nil
}

// resolveExisting fills results for the incidents whose external id is
// stored already or repeated earlier in the batch, and returns the indexes
// of the others, which are to be inserted.
func resolveExisting(incs []*incidents.Incident, stored map[string]int64, results []store.InsertResult) []int {
	firstInBatch := make(map[string]int, len(incs))
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
	return fresh
}

// insertRows inserts the fresh incidents with multi-row INSERTs on the
// driver connection dc and fills their results.
func insertRows(ctx context.Context, dc any, incs []*incidents.Incident, fresh []int, results []store.InsertResult) error {
	ins, err := newBulkInsert(dc, "incidents", insertColumns)
	if err != nil {
		return err
	}
	defer ins.close()
	arity := len(insertColumns)
	next := 0
	feed := newChunkFeed(len(fresh), arity, func(vals []driver.Value, a *arena) []driver.Value {
		next++
		return appendInsertValues(vals, a, incs[fresh[next-1]])
	})
	defer feed.close()
	for start := 0; ; {
		c, ok := feed.next()
		if !ok {
			break
		}
		first, err := ins.exec(ctx, c.vals, c.shared)
		if err != nil {
			return err
		}
		rows := len(c.vals) / arity
		feed.recycle(c)
		for k, i := range fresh[start : start+rows] {
			results[i] = store.InsertResult{ID: first + int64(k), Created: true}
		}
		start += rows
	}
	for i, r := range results {
		if r.ID < 0 { // a repeat of an external id earlier in the batch
			results[i] = store.InsertResult{ID: results[-r.ID-1].ID}
		}
	}
	return nil
}

// pointIndex enters a batch's points into the incidents R-tree in bulk
// (rtree.go). It starts before the rows are inserted and tiles their
// points into leaves on another goroutine meanwhile, each cell holding its
// row's place in fresh until the row has its id.
type pointIndex struct {
	rt     *rtreeBatch
	cells  []rcell
	leaves chan [][]rcell // nil where the root is a leaf, whose rows join the packing
}

func startPointIndex(ctx context.Context, tx *sql.Tx, incs []*incidents.Incident, fresh []int) (*pointIndex, error) {
	rt, err := newRtreeBatch(ctx, tx, "rtree_incidents_geom")
	if err != nil {
		return nil, err
	}
	p := &pointIndex{rt: rt, cells: make([]rcell, len(fresh))}
	for k, i := range fresh {
		p.cells[k] = rcell{id: int64(k), box: boxOf(incs[i].Lon, incs[i].Lon, incs[i].Lat, incs[i].Lat)}
	}
	if rt.depth > 0 {
		p.leaves = make(chan [][]rcell, 1)
		go func() { p.leaves <- rt.pack(p.cells) }()
	}
	return p, nil
}

// finish enters the points, now that results holds their rows' ids, and
// writes the tree.
func (p *pointIndex) finish(ctx context.Context, fresh []int, results []store.InsertResult) error {
	var err error
	if p.leaves == nil {
		for k := range p.cells {
			p.cells[k].id = results[fresh[p.cells[k].id]].ID
		}
		err = p.rt.insertPoints(ctx, p.cells)
	} else {
		leaves := <-p.leaves
		for _, leaf := range leaves {
			for j := range leaf {
				leaf[j].id = results[fresh[leaf[j].id]].ID
			}
		}
		err = p.rt.insertLeaves(ctx, leaves)
	}
	if err != nil {
		return err
	}
	return p.rt.flush(ctx)
}

func (p *pointIndex) close() { p.rt.close() }

// appendInsertValues appends the insertColumns of inc as driver values,
// with its times and point carved from a.
func appendInsertValues(vals []driver.Value, a *arena, inc *incidents.Incident) []driver.Value {
	var extended int64
	if inc.Extended {
		extended = 1
	}
	return append(vals,
		a.point(inc.Lon, inc.Lat), nullString(inc.ExternalID), inc.Category, nullString(string(inc.Source)),
		nullString(inc.Description), a.time(inc.ReportedAt), nullString(inc.GridCode), string(inc.Status),
		a.timePtr(inc.Deadline), a.timePtr(inc.FiledAt), a.timePtr(inc.DispatchedAt), a.timePtr(inc.HandledAt),
		a.timePtr(inc.ClosedAt), int64(inc.Reworks), extended)
}

// splitStarted splits the fresh incidents into those whose whole history
// is their incidents.Incident.FirstEntry, all by one author by, and the
// rest.
func splitStarted(incs []*incidents.Incident, fresh []int) (by string, started, rest []int) {
	for _, i := range fresh {
		inc := incs[i]
		if len(inc.History) == 1 && inc.Source != "" {
			t := inc.History[0]
			w := inc.FirstEntry(t.By)
			if (len(started) == 0 || t.By == by) && t.By != "" && t.From == w.From && t.To == w.To &&
				t.At.Equal(w.At) && t.Note == w.Note {
				by = t.By
				started = append(started, i)
				continue
			}
		}
		rest = append(rest, i)
	}
	return by, started, rest
}

// insertStartedHistory writes the first history entry of incidents that
// splitStarted found to have only that one, copying it from their rows
// just inserted: one statement for each run of consecutive ids, nothing
// bound a row. The text is what insertHistory would write for
// FirstEntry: the same time format, status and note.
func insertStartedHistory(ctx context.Context, tx *sql.Tx, by string, started []int, results []store.InsertResult) error {
	const q = `INSERT OR ROLLBACK INTO incident_history (incident_id, at, by, from_status, to_status, note)
SELECT fid, reported_at, ?1, NULL, status, 'reported via ' || source FROM incidents WHERE fid BETWEEN ?2 AND ?3 ORDER BY fid`
	for k := 0; k < len(started); {
		first := results[started[k]].ID
		n := 1
		for k+n < len(started) && results[started[k+n]].ID == first+int64(n) {
			n++
		}
		if _, err := tx.ExecContext(ctx, q, by, first, first+int64(n)-1); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		k += n
	}
	return nil
}

// insertHistory inserts the history of the fresh incidents on the driver
// connection dc.
func insertHistory(ctx context.Context, dc any, incs []*incidents.Incident, fresh []int, results []store.InsertResult) error {
	rows := 0
	for _, i := range fresh {
		rows += len(incs[i].History)
	}
	if rows == 0 {
		return nil
	}
	ins, err := newBulkInsert(dc, "incident_history", historyColumns)
	if err != nil {
		return err
	}
	defer ins.close()
	k, h := 0, 0 // the next row is entry h of incident fresh[k]
	feed := newChunkFeed(rows, len(historyColumns), func(vals []driver.Value, a *arena) []driver.Value {
		for h == len(incs[fresh[k]].History) {
			k, h = k+1, 0
		}
		i, t := fresh[k], incs[fresh[k]].History[h]
		h++
		return append(vals, results[i].ID, a.time(t.At), nullString(t.By), nullString(string(t.From)), string(t.To), nullString(t.Note))
	})
	defer feed.close()
	for {
		c, ok := feed.next()
		if !ok {
			return nil
		}
		if _, err := ins.exec(ctx, c.vals, c.shared); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		feed.recycle(c)
	}
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

// ScanIncidents implements store.Store. Ranges of scanRange ids are read
// on reader connections of their own, as many at once as there are cores,
// and handed to fn in id order: the driver's work per row, the larger part
// of a start-up load, spreads over the cores. Each range is read in a
// snapshot of its own; a write committed during the scan may be seen by
// later ranges only, as it would by a later single scan, and its event
// follows.
func (s *Store) ScanIncidents(ctx context.Context, fn func(*incidents.Incident) error) error {
	var lo, hi sql.NullInt64
	if err := s.r.QueryRowContext(ctx, "SELECT min(fid), max(fid) FROM incidents").Scan(&lo, &hi); err != nil {
		return fmt.Errorf("scan incidents: %w", err)
	}
	if !lo.Valid {
		return nil
	}
	ranges := int((hi.Int64-lo.Int64)/scanRange) + 1
	workers := max(1, min(ranges, runtime.GOMAXPROCS(0), maxReaders-1))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type part struct {
		incs []*incidents.Incident
		err  error
	}
	parts := make([]chan part, workers)
	for w := range parts {
		parts[w] = make(chan part, 1)
		go func(out chan<- part) {
			defer close(out)
			for r := w; r < ranges; r += workers {
				first := lo.Int64 + int64(r)*scanRange
				incs, err := s.readRange(ctx, first, first+scanRange-1)
				select {
				case out <- part{incs, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}(parts[w])
	}
	for r := 0; r < ranges; r++ {
		p, ok := <-parts[r%workers]
		if !ok {
			return fmt.Errorf("scan incidents: %w", ctx.Err())
		}
		if p.err != nil {
			return fmt.Errorf("scan incidents: %w", p.err)
		}
		for _, inc := range p.incs {
			if err := fn(inc); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanRange is the number of ids each query of ScanIncidents reads.
const scanRange = 1 << 14

// readRange reads the incidents with ids in [first, last].
func (s *Store) readRange(ctx context.Context, first, last int64) ([]*incidents.Incident, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE fid BETWEEN ? AND ? ORDER BY fid", first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*incidents.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}
