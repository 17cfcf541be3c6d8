package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Batch insertion into a SQLite R-tree.
//
// SQLite's rtree module rewrites the nodes on the path of every row it
// inserts; through the GeoPackage trigger that costs tens of microseconds a
// row here and caps ingest far below 100,000 incidents/s. For a batch, the
// store instead writes the same shadow tables itself, in the format of
// SQLite's ext/rtree/rtree.c (nodes of 4 header bytes and 24-byte cells,
// the %_rowid and %_parent maps): the batch's points are packed into new
// leaves (Sort-Tile-Recursive), and each leaf is inserted into the tree at
// level 1 as SQLite would insert an entry, splitting nodes as needed. Every
// touched node is written once. The result is an ordinary SQLite R-tree,
// as rtreecheck() and the tests confirm, that SQLite, GDAL and QGIS read
// and keep updating row by row.

const (
	rtreeCellBytes = 8 + 4*4 // rowid or child node, then minx, maxx, miny, maxy as float32
	rtreeMaxDepth  = 40      // RTREE_MAX_DEPTH
	rtreeRootNode  = 1
)

type rbox [4]float32 // minx, maxx, miny, maxy

type rcell struct {
	id  int64 // the row id in a leaf, the child node number above
	box rbox
}

type rnode struct {
	no    int64
	cells []rcell
	isNew bool
}

type rtreeBatch struct {
	tx       *sql.Tx
	load     *sql.Stmt
	update   *sql.Stmt
	create   *sql.Stmt
	name     string // e.g. rtree_incidents_geom
	nodeSize int
	maxCells int
	depth    int // 0: the root is a leaf
	nextNode int64
	nodes    map[int64]*rnode
	dirty    map[int64]bool
	rowids   []mapEntry // row id → leaf node, to write, in the order assigned
	parents  []mapEntry // node → parent node, to write, in the order assigned
}

// mapEntry is one row of the %_rowid or %_parent map; of two entries for
// the same key, the later one holds.
type mapEntry struct{ key, val int64 }

func newRtreeBatch(ctx context.Context, tx *sql.Tx, name string) (*rtreeBatch, error) {
	b := &rtreeBatch{tx: tx, name: name, nodes: map[int64]*rnode{}, dirty: map[int64]bool{}}
	var root []byte
	if err := tx.QueryRowContext(ctx, `SELECT data FROM "`+name+`_node" WHERE nodeno = 1`).Scan(&root); err != nil {
		return nil, fmt.Errorf("r-tree %s: root: %w", name, err)
	}
	// SQLite takes the node size from the root's length, and so do we.
	b.nodeSize = len(root)
	b.maxCells = (b.nodeSize - 4) / rtreeCellBytes
	if b.maxCells < 4 {
		return nil, fmt.Errorf("r-tree %s: node size %d too small", name, b.nodeSize)
	}
	b.depth = int(binary.BigEndian.Uint16(root[0:2]))
	if b.depth > rtreeMaxDepth {
		return nil, fmt.Errorf("r-tree %s: depth %d: corrupt", name, b.depth)
	}
	rootNode, err := b.parse(rtreeRootNode, root)
	if err != nil {
		return nil, err
	}
	b.nodes[rtreeRootNode] = rootNode
	var maxNode int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(nodeno), 1) FROM "`+name+`_node"`).Scan(&maxNode); err != nil {
		return nil, fmt.Errorf("r-tree %s: %w", name, err)
	}
	b.nextNode = maxNode + 1
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&b.load, `SELECT data FROM "` + name + `_node" WHERE nodeno = ?`},
		{&b.update, `UPDATE "` + name + `_node" SET data = ?2 WHERE nodeno = ?1`},
		{&b.create, `INSERT INTO "` + name + `_node" (nodeno, data) VALUES (?1, ?2)`},
	} {
		if *p.dst, err = tx.PrepareContext(ctx, p.q); err != nil {
			b.close()
			return nil, fmt.Errorf("r-tree %s: %w", name, err)
		}
	}
	return b, nil
}

func (b *rtreeBatch) close() {
	for _, st := range []*sql.Stmt{b.load, b.update, b.create} {
		if st != nil {
			st.Close()
		}
	}
}

func (b *rtreeBatch) parse(no int64, data []byte) (*rnode, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("r-tree %s: node %d truncated", b.name, no)
	}
	n := int(binary.BigEndian.Uint16(data[2:4]))
	if 4+n*rtreeCellBytes > len(data) {
		return nil, fmt.Errorf("r-tree %s: node %d holds %d cells in %d bytes: corrupt", b.name, no, n, len(data))
	}
	node := &rnode{no: no, cells: make([]rcell, n, b.maxCells+1)}
	for i := range node.cells {
		c := data[4+i*rtreeCellBytes:]
		node.cells[i].id = int64(binary.BigEndian.Uint64(c))
		for k := 0; k < 4; k++ {
			node.cells[i].box[k] = math.Float32frombits(binary.BigEndian.Uint32(c[8+4*k:]))
		}
	}
	return node, nil
}

func (b *rtreeBatch) node(ctx context.Context, no int64) (*rnode, error) {
	if n, ok := b.nodes[no]; ok {
		return n, nil
	}
	var data []byte
	err := b.load.QueryRowContext(ctx, no).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("r-tree %s: node %d missing: corrupt", b.name, no)
	}
	if err != nil {
		return nil, fmt.Errorf("r-tree %s: node %d: %w", b.name, no, err)
	}
	n, err := b.parse(no, data)
	if err != nil {
		return nil, err
	}
	b.nodes[no] = n
	return n, nil
}

// boxOf rounds a double box outward to float32, as SQLite does for its
// default 32-bit R-tree, so the stored box always contains the geometry.
func boxOf(minx, maxx, miny, maxy float64) rbox {
	return rbox{down32(minx), up32(maxx), down32(miny), up32(maxy)}
}

func down32(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func (a rbox) union(c rbox) rbox {
	return rbox{min(a[0], c[0]), max(a[1], c[1]), min(a[2], c[2]), max(a[3], c[3])}
}

func (a rbox) area() float64 { return float64(a[1]-a[0]) * float64(a[3]-a[2]) }

func boxOfCells(cells []rcell) rbox {
	bx := cells[0].box
	for _, c := range cells[1:] {
		bx = bx.union(c.box)
	}
	return bx
}

// insertPoints adds rows to the tree: packed into new leaves, which enter
// the tree one by one at level 1.
func (b *rtreeBatch) insertPoints(ctx context.Context, cells []rcell) error {
	if len(cells) == 0 {
		return nil
	}
	root := b.nodes[rtreeRootNode]
	if b.depth == 0 {
		// The root is still a leaf: its rows join the batch and the root
		// becomes the first inner node.
		cells = append(cells, root.cells...)
		root.cells = root.cells[:0]
		b.depth = 1
		b.dirty[rtreeRootNode] = true
	}
	return b.insertLeaves(ctx, b.pack(cells))
}

// insertLeaves adds leaves that pack made of new rows, the root being an
// inner node already.
func (b *rtreeBatch) insertLeaves(ctx context.Context, leaves [][]rcell) error {
	if b.depth == 0 {
		return fmt.Errorf("r-tree %s: leaves packed apart from the rows of a leaf root", b.name)
	}
	for _, leaf := range leaves {
		n := b.newNode(leaf, 0)
		if err := b.insertEntry(ctx, rcell{id: n.no, box: boxOfCells(leaf)}, 1); err != nil {
			return err
		}
	}
	return nil
}

// pack tiles cells into leaves by Sort-Tile-Recursive: vertical slices by
// x, then runs by y. Leaves are filled evenly, so none holds fewer than a
// third of a node (SQLite's minimum) once there are a few dozen cells. It
// reads nothing of b but the node size, and may run on another goroutine
// while b is not in use.
func (b *rtreeBatch) pack(cells []rcell) [][]rcell {
	m := b.maxCells
	nLeaves := (len(cells) + m - 1) / m
	nSlices := int(math.Ceil(math.Sqrt(float64(nLeaves))))
	slices.SortFunc(cells, byCentre(0))
	var leaves [][]rcell
	for _, slice := range evenParts(cells, nSlices) {
		slices.SortFunc(slice, byCentre(2))
		for _, leaf := range evenParts(slice, (len(slice)+m-1)/m) {
			leaves = append(leaves, append(make([]rcell, 0, m+1), leaf...))
		}
	}
	return leaves
}

// byCentre orders cells by the centre of their boxes on the axis (0 for
// x, 2 for y).
func byCentre(axis int) func(a, b rcell) int {
	return func(a, b rcell) int {
		return cmp.Compare(a.box[axis]+a.box[axis+1], b.box[axis]+b.box[axis+1])
	}
}

// evenParts cuts s into n runs whose lengths differ by at most one.
func evenParts(s []rcell, n int) [][]rcell {
	if n < 1 {
		n = 1
	}
	out := make([][]rcell, 0, n)
	for k := 0; k < n; k++ {
		lo, hi := k*len(s)/n, (k+1)*len(s)/n
		if hi > lo {
			out = append(out, s[lo:hi])
		}
	}
	return out
}

// insertEntry adds a cell at the given level (0: a row into a leaf; 1: a
// leaf node into an inner node), choosing at each level the subtree whose
// box grows least, and splits what overflows.
func (b *rtreeBatch) insertEntry(ctx context.Context, e rcell, level int) error {
	path := make([]*rnode, 0, b.depth+1)
	n := b.nodes[rtreeRootNode]
	path = append(path, n)
	for l := b.depth; l > level; l-- {
		if len(n.cells) == 0 {
			return fmt.Errorf("r-tree %s: empty inner node %d: corrupt", b.name, n.no)
		}
		best, bestGrow, bestArea := 0, math.Inf(1), math.Inf(1)
		for i, c := range n.cells {
			area := c.box.area()
			grow := c.box.union(e.box).area() - area
			if grow < bestGrow || (grow == bestGrow && area < bestArea) {
				best, bestGrow, bestArea = i, grow, area
			}
		}
		// The box of the chosen subtree grows to take the new entry.
		if grown := n.cells[best].box.union(e.box); grown != n.cells[best].box {
			n.cells[best].box = grown
			b.dirty[n.no] = true
		}
		child, err := b.node(ctx, n.cells[best].id)
		if err != nil {
			return err
		}
		n = child
		path = append(path, n)
	}
	n.cells = append(n.cells, e)
	b.dirty[n.no] = true
	if level == 0 {
		b.rowids = append(b.rowids, mapEntry{e.id, n.no})
	} else {
		b.parents = append(b.parents, mapEntry{e.id, n.no})
	}
	for k := len(path) - 1; k >= 0 && len(path[k].cells) > b.maxCells; k-- {
		b.split(path, k)
	}
	return nil
}

// split halves the overfull node path[k] along the axis where its cells'
// centres spread most; each half keeps at least a third of a node, as
// SQLite's own deletes expect.
func (b *rtreeBatch) split(path []*rnode, k int) {
	n := path[k]
	level := b.depth - k // 0 for a leaf
	cells := n.cells
	axis := 0
	if spread(cells, 2) > spread(cells, 0) {
		axis = 2
	}
	slices.SortFunc(cells, byCentre(axis))
	half := len(cells) / 2
	left := append(make([]rcell, 0, b.maxCells+1), cells[:half]...)
	right := append(make([]rcell, 0, b.maxCells+1), cells[half:]...)

	if n.no == rtreeRootNode {
		// The root keeps its number: its cells move down into two new
		// nodes and the tree grows a level.
		a := b.newNode(left, level)
		c := b.newNode(right, level)
		n.cells = append(n.cells[:0], rcell{id: a.no, box: boxOfCells(left)}, rcell{id: c.no, box: boxOfCells(right)})
		b.parents = append(b.parents, mapEntry{a.no, rtreeRootNode}, mapEntry{c.no, rtreeRootNode})
		b.depth++
		b.dirty[n.no] = true
		return
	}
	n.cells = left
	b.dirty[n.no] = true
	sib := b.newNode(right, level)
	parent := path[k-1]
	for i := range parent.cells {
		if parent.cells[i].id == n.no {
			parent.cells[i].box = boxOfCells(left)
		}
	}
	parent.cells = append(parent.cells, rcell{id: sib.no, box: boxOfCells(right)})
	b.parents = append(b.parents, mapEntry{sib.no, parent.no})
	b.dirty[parent.no] = true
}

func spread(cells []rcell, axis int) float32 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, c := range cells {
		m := c.box[axis] + c.box[axis+1]
		lo, hi = min(lo, m), max(hi, m)
	}
	return hi - lo
}

// newNode makes a node at level holding cells and repoints their maps.
func (b *rtreeBatch) newNode(cells []rcell, level int) *rnode {
	n := &rnode{no: b.nextNode, cells: cells, isNew: true}
	b.nextNode++
	b.nodes[n.no] = n
	b.dirty[n.no] = true
	m := &b.parents
	if level == 0 {
		m = &b.rowids
	}
	for _, c := range cells {
		*m = append(*m, mapEntry{c.id, n.no})
	}
	return n
}

func (b *rtreeBatch) encode(n *rnode) []byte {
	data := make([]byte, b.nodeSize)
	if n.no == rtreeRootNode {
		binary.BigEndian.PutUint16(data[0:2], uint16(b.depth))
	}
	binary.BigEndian.PutUint16(data[2:4], uint16(len(n.cells)))
	for i, c := range n.cells {
		p := data[4+i*rtreeCellBytes:]
		binary.BigEndian.PutUint64(p, uint64(c.id))
		for k := 0; k < 4; k++ {
			binary.BigEndian.PutUint32(p[8+4*k:], math.Float32bits(c.box[k]))
		}
	}
	return data
}

// flush writes the touched nodes and the maps.
func (b *rtreeBatch) flush(ctx context.Context) error {
	if b.depth > rtreeMaxDepth {
		return fmt.Errorf("r-tree %s: depth %d exceeds SQLite's limit", b.name, b.depth)
	}
	for no := range b.dirty {
		n := b.nodes[no]
		st := b.update
		if n.isNew {
			st = b.create
		}
		if _, err := st.ExecContext(ctx, no, b.encode(n)); err != nil {
			return fmt.Errorf("r-tree %s: write node %d: %w", b.name, no, err)
		}
	}
	if err := b.writeMap(ctx, "_rowid", "rowid, nodeno", b.rowids); err != nil {
		return err
	}
	return b.writeMap(ctx, "_parent", "nodeno, parentnode", b.parents)
}

// writeMap writes the entries of a map into the shadow table of the
// suffix, whose key and value columns cols names. Each run of consecutive
// keys (a batch's new rows have consecutive ids) goes in one statement as
// a JSON array of values, which costs about half of binding two
// parameters a row.
func (b *rtreeBatch) writeMap(ctx context.Context, suffix, cols string, entries []mapEntry) error {
	keys, vals := latestByKey(entries)
	q := `INSERT OR REPLACE INTO "` + b.name + suffix + `" (` + cols + `) SELECT ?1 + key, value FROM json_each(?2)`
	var arr []byte
	for start := 0; start < len(keys); {
		end := start + 1
		for end < len(keys) && keys[end] == keys[end-1]+1 {
			end++
		}
		arr = append(arr[:0], '[')
		for i, v := range vals[start:end] {
			if i > 0 {
				arr = append(arr, ',')
			}
			arr = strconv.AppendInt(arr, v, 10)
		}
		arr = append(arr, ']')
		if _, err := b.tx.ExecContext(ctx, q, keys[start], string(arr)); err != nil {
			return fmt.Errorf("r-tree %s: write %s: %w", b.name, suffix, err)
		}
		start = end
	}
	return nil
}

// latestByKey returns the keys of entries in ascending order, each once,
// with the value of its last entry: the order that appends to the
// B-tree. A batch's row ids span little more than their number, so a
// table indexed by key stands in for a map and a sort where it can.
func latestByKey(entries []mapEntry) (keys, vals []int64) {
	if len(entries) == 0 {
		return nil, nil
	}
	lo, hi := entries[0].key, entries[0].key
	for _, e := range entries[1:] {
		lo, hi = min(lo, e.key), max(hi, e.key)
	}
	if span := uint64(hi - lo); span < uint64(2*len(entries)+64) {
		// Node numbers are at least 1, so 0 marks a key not present.
		table := make([]int64, span+1)
		for _, e := range entries {
			table[e.key-lo] = e.val
		}
		keys, vals = make([]int64, 0, len(entries)), make([]int64, 0, len(entries))
		for i, v := range table {
			if v != 0 {
				keys, vals = append(keys, lo+int64(i)), append(vals, v)
			}
		}
		return keys, vals
	}
	latest := make(map[int64]int64, len(entries))
	for _, e := range entries {
		latest[e.key] = e.val
	}
	keys = make([]int64, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vals = make([]int64, len(keys))
	for i, k := range keys {
		vals[i] = latest[k]
	}
	return keys, vals
}
