package gpkg

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// rowsPerInsert is how many rows one multi-row INSERT carries: large
// enough to spread the statement overhead, well under SQLite's 32766 bound
// variables.
const rowsPerInsert = 256

// bulkInsert runs multi-row INSERTs into one table on the driver
// connection, under the transaction open on it. database/sql would
// allocate and convert a fresh argument list of thousands of values for
// every statement, which costs as much as a tenth of the insert and feeds
// the garbage collector.
//
// Binding dominates what the driver adds to SQLite's own work, so a column
// that holds the same value in every row of a statement (a status, a
// source, the NULL of a step not yet reached) is bound once: the first row
// binds all its columns, and the later rows name the first row's parameter
// (?N) for the shared ones.
//
// The writer holds the database's write lock for the whole transaction, so
// the rows of one statement get consecutive ids ending at
// last_insert_rowid.
type bulkInsert struct {
	prep  driver.ConnPrepareContext
	head  string // INSERT … VALUES
	arity int
	// full is the statement of rowsPerInsert rows once prepared, sharing
	// the columns fullShared marks.
	full       driver.Stmt
	fullShared []bool
	args       []driver.NamedValue
}

// newBulkInsert makes inserts of columns into table on the driver
// connection dc.
//
// OR ROLLBACK spares SQLite the statement journal (a copy of every page
// the statement touches, kept to undo just that statement on a constraint
// failure): any failure fails the whole batch, whose transaction is rolled
// back either way.
func newBulkInsert(dc any, table string, columns []string) (*bulkInsert, error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("driver connection %T cannot prepare", dc)
	}
	return &bulkInsert{
		prep:  prep,
		head:  "INSERT OR ROLLBACK INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ",
		arity: len(columns),
	}, nil
}

func (b *bulkInsert) close() {
	if b.full != nil {
		b.full.Close()
		b.full = nil
	}
}

// sql is the statement for rows rows sharing the shared columns.
func (b *bulkInsert) sql(rows int, shared []bool) string {
	var s strings.Builder
	s.Grow(len(b.head) + rows*(4*b.arity+2))
	s.WriteString(b.head)
	for r := 0; r < rows; r++ {
		if r > 0 {
			s.WriteByte(',')
		}
		s.WriteByte('(')
		for c := 0; c < b.arity; c++ {
			if c > 0 {
				s.WriteByte(',')
			}
			s.WriteByte('?')
			if r > 0 && shared[c] {
				// The first row's parameters are numbered 1…arity.
				s.WriteString(strconv.Itoa(c + 1))
			}
		}
		s.WriteByte(')')
	}
	return s.String()
}

// exec inserts the rows whose values vals holds, arity to a row, at most
// rowsPerInsert of them, and returns the id of the first. shared is
// sharedColumns(vals).
//
// The statement of rowsPerInsert rows is prepared once and kept while the
// rows share what it shares. When a later chunk differs in a column shared
// so far, the statement is prepared again sharing what both share, so a
// batch prepares it at most once per column.
func (b *bulkInsert) exec(ctx context.Context, vals []driver.Value, shared []bool) (int64, error) {
	rows := len(vals) / b.arity
	if rows == 0 || rows > rowsPerInsert || rows*b.arity != len(vals) || len(shared) != b.arity {
		return 0, fmt.Errorf("bulk insert of %d values in rows of %d", len(vals), b.arity)
	}
	st := b.full
	if rows == rowsPerInsert && st != nil && subset(b.fullShared, shared) {
		shared = b.fullShared
	} else {
		if rows == rowsPerInsert && st != nil {
			shared = intersect(b.fullShared, shared)
		}
		ds, err := b.prep.PrepareContext(ctx, b.sql(rows, shared))
		if err != nil {
			return 0, err
		}
		if rows == rowsPerInsert {
			b.close()
			b.full, b.fullShared = ds, shared
		} else {
			defer ds.Close()
		}
		st = ds
	}
	args := b.args[:0]
	for i, v := range vals {
		if i >= b.arity && shared[i%b.arity] {
			continue
		}
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
	}
	b.args = args
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		return 0, fmt.Errorf("driver statement %T cannot execute with a context", st)
	}
	res, err := ex.ExecContext(ctx, args)
	if err != nil {
		return 0, err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return last - int64(rows) + 1, nil
}

// subset reports whether every column a marks is marked in b too.
func subset(a, b []bool) bool {
	for i := range a {
		if a[i] && !b[i] {
			return false
		}
	}
	return true
}

func intersect(a, b []bool) []bool {
	out := make([]bool, len(a))
	for i := range a {
		out[i] = a[i] && b[i]
	}
	return out
}

// sharedColumns tells, for rows of arity values each, which columns hold
// the same value in every row. Only NULL, text and numbers are compared;
// a blob column is never shared.
func sharedColumns(vals []driver.Value, arity int) []bool {
	shared := make([]bool, arity)
	if len(vals) < arity {
		return shared
	}
	for c, v := range vals[:arity] {
		switch v.(type) {
		case nil, string, int64, float64, bool:
			shared[c] = true
		}
	}
	for i := arity; i < len(vals); i++ {
		c := i % arity
		if shared[c] && vals[i] != vals[c] {
			shared[c] = false
		}
	}
	return shared
}

// chunk is the values of one statement's rows and the columns they share.
type chunk struct {
	vals   []driver.Value
	shared []bool
}

// chunkFeed makes the chunks of a batch's rows, in order, on a goroutine
// of its own that keeps at most two chunks ahead of the statements taking
// them: the values of one statement are made while SQLite runs the one
// before, off the writer's path. A batch of one chunk is made at once.
type chunkFeed struct {
	out  chan chunk
	free chan chunk
	stop chan struct{}
	done chan struct{}
}

const chunksAhead = 2

// newChunkFeed makes the chunks of rows rows of arity values each;
// appendRow, called once for each row in turn, appends the values of the
// next row, carving texts and blobs from a.
func newChunkFeed(rows, arity int, appendRow func(vals []driver.Value, a *arena) []driver.Value) *chunkFeed {
	f := &chunkFeed{out: make(chan chunk, chunksAhead), free: make(chan chunk, chunksAhead+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	var a arena
	build := func(c chunk, start int) chunk {
		c.vals = c.vals[:0]
		for range min(rowsPerInsert, rows-start) {
			c.vals = appendRow(c.vals, &a)
		}
		c.shared = sharedColumns(c.vals, arity)
		return c
	}
	if rows <= rowsPerInsert {
		if rows > 0 {
			f.out <- build(chunk{}, 0)
		}
		close(f.out)
		close(f.done)
		return f
	}
	for range chunksAhead + 1 {
		f.free <- chunk{vals: make([]driver.Value, 0, rowsPerInsert*arity)}
	}
	go func() {
		defer close(f.done)
		defer close(f.out)
		for start := 0; start < rows; start += rowsPerInsert {
			var c chunk
			select {
			case c = <-f.free:
			case <-f.stop:
				return
			}
			select {
			case f.out <- build(c, start):
			case <-f.stop:
				return
			}
		}
	}()
	return f
}

// next returns the next chunk; ok is false after the last.
func (f *chunkFeed) next() (c chunk, ok bool) {
	c, ok = <-f.out
	return c, ok
}

// recycle hands back a chunk whose statement has run, for its buffer.
func (f *chunkFeed) recycle(c chunk) {
	select {
	case f.free <- c:
	default:
	}
}

// close stops the feed and waits for its goroutine to end.
func (f *chunkFeed) close() {
	close(f.stop)
	<-f.done
}

// arena hands out the texts and blobs of one batch's inserts, carved from
// shared buffers instead of allocated one by one. A buffer is only ever
// appended to, and replaced rather than grown when full, so the bytes of
// every value handed out stay as written.
type arena struct{ buf []byte }

const arenaChunk = 16 << 10

func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(arenaChunk, n))
	}
}

// time is fmtTime(t).
func (a *arena) time(t time.Time) string {
	a.reserve(len(timeLayout))
	lo := len(a.buf)
	a.buf = appendTime(a.buf, t)
	return unsafe.String(&a.buf[lo], len(a.buf)-lo)
}

// timePtr is fmtTimePtr(t).
func (a *arena) timePtr(t *time.Time) driver.Value {
	if t == nil {
		return nil
	}
	return a.time(*t)
}

// point is encodePoint(lon, lat).
func (a *arena) point(lon, lat float64) []byte {
	a.reserve(pointBytes)
	lo := len(a.buf)
	a.buf = appendPoint(a.buf, lon, lat)
	return a.buf[lo:len(a.buf):len(a.buf)]
}
