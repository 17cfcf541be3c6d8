package incidents

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Columns is the in-memory, append-only, columnar copy of every incident
// that analytics read. It is sized for millions of rows: coordinates are
// int32 fixed point of 1e-7° (about 1 cm; float32 would be off by metres at
// lon 116°), times uint32 Unix seconds (0 = none, good to 2106), with the
// reported time's millisecond kept besides so that lists page in the
// stores' exact (reported_at, id) order; category, grid, source and status
// are small dictionary codes. Rows sit in blocks of 65,536 that know their
// earliest and latest report.
//
// Many readers may work on Views while writers append and update: rows are
// written before the row count that makes them visible is published, and
// the few fields a status change touches are atomics. A View sees the rows
// that existed when it was taken; their workflow fields are live.
type Columns struct {
	mu sync.Mutex // serialises writers; readers never take it

	n      atomic.Int64
	chunks atomic.Pointer[[]*chunk]
	cats   atomic.Pointer[[]string] // category dictionary; 0 is ""
	grids  atomic.Pointer[[]string] // grid code dictionary; 0 is "" (unassigned)

	// Writer-side state, guarded by mu.
	catIdx  map[string]uint16
	gridIdx map[string]uint32
	// late holds the rows whose id arrived out of increasing order, so that
	// the common case finds a row by binary search over the id column.
	late  map[int64]int32
	maxID int64
}

const (
	chunkBits = 16
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

type chunk struct {
	id       [chunkSize]int64
	lon, lat [chunkSize]int32 // 1e-7 degrees
	reported [chunkSize]uint32
	milli    [chunkSize]uint16 // reported_at's millisecond within its second
	grid     [chunkSize]uint32
	category [chunkSize]uint16
	source   [chunkSize]uint8
	// Fields a status change may touch after the row is visible.
	deadline [chunkSize]atomic.Uint32
	closed   [chunkSize]atomic.Uint32
	state    [chunkSize]atomic.Uint32 // status | reworks<<8 | flags<<16
	// The earliest and latest reported second of the chunk's rows, set
	// before a row is published, so that they bound every row a View sees.
	firstRep, lastRep atomic.Uint32
}

const flagExtended = 1

// NewColumns returns empty columns.
func NewColumns() *Columns {
	c := &Columns{
		catIdx:  map[string]uint16{"": 0},
		gridIdx: map[string]uint32{"": 0},
		late:    map[int64]int32{},
	}
	chunks := []*chunk{}
	cats := []string{""}
	grids := []string{""}
	c.chunks.Store(&chunks)
	c.cats.Store(&cats)
	c.grids.Store(&grids)
	return c
}

// Len is the number of incidents held.
func (c *Columns) Len() int { return int(c.n.Load()) }

// Append adds an incident. An id already present is ignored (false), so an
// event replayed after a reload does not count a case twice. Incidents must
// have an id assigned by the store.
func (c *Columns) Append(inc *Incident) (bool, error) {
	if inc.ID <= 0 {
		return false, fmt.Errorf("append incident: id %d not assigned", inc.ID)
	}
	rep, err := unixSeconds(inc.ReportedAt)
	if err != nil {
		return false, fmt.Errorf("append incident %d: reported_at: %w", inc.ID, err)
	}
	deadline, closed, state, err := workflowFields(inc)
	if err != nil {
		return false, err
	}
	if math.IsNaN(inc.Lon) || math.IsNaN(inc.Lat) || math.Abs(inc.Lon) > 180 || math.Abs(inc.Lat) > 90 {
		return false, fmt.Errorf("append incident %d: coordinates %v,%v out of range", inc.ID, inc.Lon, inc.Lat)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if inc.ID <= c.maxID { // a larger id than all held cannot be a duplicate
		if _, ok := c.find(inc.ID); ok {
			return false, nil
		}
	}
	cat, err := c.categoryCode(inc.Category)
	if err != nil {
		return false, err
	}
	grid := c.gridCode(inc.GridCode)

	i := int(c.n.Load())
	chunks := *c.chunks.Load()
	if i>>chunkBits == len(chunks) {
		grown := append(chunks[:len(chunks):len(chunks)], new(chunk))
		c.chunks.Store(&grown)
		chunks = grown
	}
	ch, j := chunks[i>>chunkBits], i&chunkMask
	ch.id[j] = inc.ID
	ch.lon[j] = int32(math.Round(inc.Lon * 1e7))
	ch.lat[j] = int32(math.Round(inc.Lat * 1e7))
	ch.reported[j] = rep
	ch.milli[j] = uint16(inc.ReportedAt.Nanosecond() / 1e6)
	if j == 0 || rep < ch.firstRep.Load() {
		ch.firstRep.Store(rep)
	}
	if rep > ch.lastRep.Load() {
		ch.lastRep.Store(rep)
	}
	ch.grid[j] = grid
	ch.category[j] = cat
	ch.source[j] = sourceCode(inc.Source)
	ch.deadline[j].Store(deadline)
	ch.closed[j].Store(closed)
	ch.state[j].Store(state)
	if inc.ID > c.maxID {
		c.maxID = inc.ID
	} else {
		c.late[inc.ID] = int32(i)
	}
	c.n.Store(int64(i + 1)) // publishes the row to new Views
	return true, nil
}

// Update copies the workflow fields of inc (status, deadline, closing time,
// reworks, extension) onto its row; false when the id is not held.
func (c *Columns) Update(inc *Incident) (bool, error) {
	deadline, closed, state, err := workflowFields(inc)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.find(inc.ID)
	if !ok {
		return false, nil
	}
	ch, j := (*c.chunks.Load())[i>>chunkBits], i&chunkMask
	ch.deadline[j].Store(deadline)
	ch.closed[j].Store(closed)
	ch.state[j].Store(state)
	return true, nil
}

// Bytes estimates the memory held, dictionaries and id index included.
func (c *Columns) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := int64(len(*c.chunks.Load())) * int64(unsafe.Sizeof(chunk{}))
	for _, s := range *c.cats.Load() {
		total += int64(len(s)) + 16
	}
	for _, s := range *c.grids.Load() {
		total += int64(len(s)) + 16
	}
	// Go maps cost roughly key+value+overhead per entry.
	total += int64(len(c.catIdx)+len(c.gridIdx)) * 48
	total += int64(len(c.late)) * 32
	return total
}

// find is the row of id; callers hold mu.
func (c *Columns) find(id int64) (int, bool) {
	if i, ok := c.late[id]; ok {
		return int(i), true
	}
	n := int(c.n.Load())
	chunks := *c.chunks.Load()
	// Rows outside late have increasing ids, so a binary search over them
	// works once late rows are stepped over: search on the in-order ids only.
	at := func(k int) int64 { return chunks[k>>chunkBits].id[k&chunkMask] }
	if len(c.late) > 0 {
		at = func(k int) int64 { return inOrderID(chunks, k, c.late) }
	}
	i := sort.Search(n, func(k int) bool { return at(k) >= id })
	if i < n && chunks[i>>chunkBits].id[i&chunkMask] == id {
		return i, true
	}
	return 0, false
}

// inOrderID is the id at row k, or for a late row the nearest in-order id
// before it, which keeps the sequence seen by the binary search sorted.
func inOrderID(chunks []*chunk, k int, late map[int64]int32) int64 {
	for ; k >= 0; k-- {
		id := chunks[k>>chunkBits].id[k&chunkMask]
		if r, ok := late[id]; !ok || int(r) != k {
			return id
		}
	}
	return 0
}

func (c *Columns) categoryCode(code string) (uint16, error) {
	if v, ok := c.catIdx[code]; ok {
		return v, nil
	}
	cats := *c.cats.Load()
	if len(cats) > math.MaxUint16 {
		return 0, fmt.Errorf("append incident: more than %d categories", math.MaxUint16)
	}
	v := uint16(len(cats))
	grown := append(cats[:len(cats):len(cats)], code)
	c.cats.Store(&grown)
	c.catIdx[code] = v
	return v, nil
}

func (c *Columns) gridCode(code string) uint32 {
	if v, ok := c.gridIdx[code]; ok {
		return v
	}
	gs := *c.grids.Load()
	v := uint32(len(gs))
	grown := append(gs[:len(gs):len(gs)], code)
	c.grids.Store(&grown)
	c.gridIdx[code] = v
	return v
}

func workflowFields(inc *Incident) (deadline, closed, state uint32, err error) {
	if inc.Deadline != nil {
		if deadline, err = unixSeconds(*inc.Deadline); err != nil {
			return 0, 0, 0, fmt.Errorf("incident %d: deadline: %w", inc.ID, err)
		}
	}
	if inc.ClosedAt != nil {
		if closed, err = unixSeconds(*inc.ClosedAt); err != nil {
			return 0, 0, 0, fmt.Errorf("incident %d: closed_at: %w", inc.ID, err)
		}
	}
	st := StatusCode(inc.Status)
	if st == 0 {
		return 0, 0, 0, fmt.Errorf("incident %d: unknown status %q", inc.ID, inc.Status)
	}
	reworks := inc.Reworks
	if reworks < 0 {
		reworks = 0
	}
	if reworks > 255 {
		reworks = 255 // saturates: no real case is sent back 255 times
	}
	var flags uint32
	if inc.Extended {
		flags |= flagExtended
	}
	return deadline, closed, uint32(st) | uint32(reworks)<<8 | flags<<16, nil
}

func unixSeconds(t time.Time) (uint32, error) {
	s := t.Unix()
	if s <= 0 || s > math.MaxUint32 {
		return 0, fmt.Errorf("time %s outside 1970…2106", t.Format(time.RFC3339))
	}
	return uint32(s), nil
}

// StatusCode is the small code Columns store for a status: its position in
// Statuses() plus one; 0 for an unknown status.
func StatusCode(s Status) uint8 {
	for i, st := range Statuses() {
		if st == s {
			return uint8(i + 1)
		}
	}
	return 0
}

// StatusOfCode is the inverse of StatusCode.
func StatusOfCode(c uint8) Status {
	all := Statuses()
	if c == 0 || int(c) > len(all) {
		return ""
	}
	return all[c-1]
}

// Sources lists the known channels in a fixed order.
func Sources() []Source {
	return []Source{SourcePatrol, SourceHotline, SourceApp, SourceVideo, SourceOpen311}
}

func sourceCode(s Source) uint8 {
	for i, src := range Sources() {
		if src == s {
			return uint8(i + 1)
		}
	}
	return 0
}

// View is a consistent set of rows to read: the rows that existed when it
// was taken. Take a new View to see rows appended since.
type View struct {
	n      int
	chunks []*chunk
	cats   []string
	grids  []string
}

// View returns the rows appended so far. It never blocks writers.
func (c *Columns) View() View {
	n := int(c.n.Load()) // loaded first: pointers stored before n are at least as new
	return View{n: n, chunks: *c.chunks.Load(), cats: *c.cats.Load(), grids: *c.grids.Load()}
}

// Len is the number of rows in the view.
func (v View) Len() int { return v.n }

// Blocks is the number of blocks the view's rows are stored in: block b
// holds rows BlockRows(b). A scan that wants rows by time can pass over a
// block whose BlockReported range misses its window.
func (v View) Blocks() int { return (v.n + chunkSize - 1) >> chunkBits }

// BlockRows is the half-open range of rows [start, end) of block b.
func (v View) BlockRows(b int) (start, end int) {
	return b << chunkBits, min(v.n, (b+1)<<chunkBits)
}

// BlockReported bounds the Unix seconds the rows of block b were reported
// at: first <= ReportedAt(i) <= last for each of its rows in the view.
func (v View) BlockReported(b int) (first, last int64) {
	ch := v.chunks[b]
	return int64(ch.firstRep.Load()), int64(ch.lastRep.Load())
}

// ID is the incident id of row i.
func (v View) ID(i int) int64 { return v.chunks[i>>chunkBits].id[i&chunkMask] }

// Lon is the WGS84 longitude of row i, to 1e-7°.
func (v View) Lon(i int) float64 { return float64(v.chunks[i>>chunkBits].lon[i&chunkMask]) * 1e-7 }

// Lat is the WGS84 latitude of row i, to 1e-7°.
func (v View) Lat(i int) float64 { return float64(v.chunks[i>>chunkBits].lat[i&chunkMask]) * 1e-7 }

// ReportedAt is the Unix second row i was reported at.
func (v View) ReportedAt(i int) int64 { return int64(v.chunks[i>>chunkBits].reported[i&chunkMask]) }

// ReportedAtMilli is the Unix millisecond row i was reported at, the
// precision the stores keep.
func (v View) ReportedAtMilli(i int) int64 {
	ch, j := v.chunks[i>>chunkBits], i&chunkMask
	return int64(ch.reported[j])*1000 + int64(ch.milli[j])
}

// Category is the dictionary code of row i's category; see Categories.
func (v View) Category(i int) uint16 { return v.chunks[i>>chunkBits].category[i&chunkMask] }

// Grid is the dictionary code of row i's grid (0: unassigned); see Grids.
func (v View) Grid(i int) uint32 { return v.chunks[i>>chunkBits].grid[i&chunkMask] }

// Source is row i's channel.
func (v View) Source(i int) Source {
	c := v.chunks[i>>chunkBits].source[i&chunkMask]
	if c == 0 {
		return ""
	}
	return Sources()[c-1]
}

// StatusCode is row i's status as StatusCode gives it.
func (v View) StatusCode(i int) uint8 {
	return uint8(v.chunks[i>>chunkBits].state[i&chunkMask].Load())
}

// Status is row i's workflow status.
func (v View) Status(i int) Status { return StatusOfCode(v.StatusCode(i)) }

// Deadline is row i's deadline in Unix seconds, 0 when none.
func (v View) Deadline(i int) int64 {
	return int64(v.chunks[i>>chunkBits].deadline[i&chunkMask].Load())
}

// ClosedAt is when row i was closed in Unix seconds, 0 when open.
func (v View) ClosedAt(i int) int64 {
	return int64(v.chunks[i>>chunkBits].closed[i&chunkMask].Load())
}

// Reworks is how many times row i was sent back (返工).
func (v View) Reworks(i int) int {
	return int(v.chunks[i>>chunkBits].state[i&chunkMask].Load() >> 8 & 0xff)
}

// Extended tells whether row i's deadline was extended (延期).
func (v View) Extended(i int) bool {
	return v.chunks[i>>chunkBits].state[i&chunkMask].Load()>>16&flagExtended != 0
}

// Categories is the category dictionary: Categories()[Category(i)] is a
// catalogue code. Code 0 is the empty string.
func (v View) Categories() []string { return v.cats }

// Grids is the grid dictionary: Grids()[Grid(i)] is a grid code. Code 0 is
// the empty string of unassigned incidents.
func (v View) Grids() []string { return v.grids }

// Row is one incident as Columns hold it, for code that prefers a struct to
// column accessors.
type Row struct {
	ID         int64
	Lon, Lat   float64
	ReportedAt int64 // Unix seconds
	Category   string
	GridCode   string
	Source     Source
	Status     Status
	Deadline   int64 // Unix seconds, 0 when none
	ClosedAt   int64 // Unix seconds, 0 when open
	Reworks    int
	Extended   bool
}

// Row gathers row i.
func (v View) Row(i int) Row {
	return Row{
		ID: v.ID(i), Lon: v.Lon(i), Lat: v.Lat(i), ReportedAt: v.ReportedAt(i),
		Category: v.cats[v.Category(i)], GridCode: v.grids[v.Grid(i)], Source: v.Source(i),
		Status: v.Status(i), Deadline: v.Deadline(i), ClosedAt: v.ClosedAt(i),
		Reworks: v.Reworks(i), Extended: v.Extended(i),
	}
}
