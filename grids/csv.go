package grids

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"runtime"
	"strconv"
	"sync"

	"github.com/gridd/gridd/geo"
)

// CSVOptions control GeocodeCSV.
type CSVOptions struct {
	CRS   geo.CRS
	SnapM float64
}

// CSVStats counts a GeocodeCSV run's rows by outcome.
type CSVStats struct {
	Rows, Inside, Snapped, Unassigned, Invalid int
}

// maxCSVLine is the longest line GeocodeCSV reads; a longer one is reported
// and written as invalid.
const maxCSVLine = 1 << 20

// csvBlockRowsBytes is the input a worker geocodes with one LocateBatch:
// 32 MB, a million rows of `id,lon,lat`, divided among the workers (at
// least 8 MB each). LocateBatch visits points in the order of their cells,
// and the more points a call has, the more of them share each grid's rings
// while those are in cache: on one core a million-row block geocodes about
// a third faster than blocks of 250,000. On more cores the input is split so
// that a million rows still keep every core busy.
const csvBlockRowsBytes = 32 << 20

// GeocodeCSV reads rows `id,lon,lat` (a header row is optional) and writes
// `id,grid_code,status` in input order. A bad row is reported on errw with
// its line number and written with status invalid; the run goes on.
//
// The input is read in blocks of whole lines. Each block is parsed and
// geocoded with one LocateBatch by one of GOMAXPROCS workers, and the
// blocks' rows are written in input order straight from the block, so no
// row is copied before it is written. Rows of the usual shape (an unquoted
// id and two plain decimals) are parsed in one pass over their bytes;
// anything else goes through the general path that names what is wrong.
func GeocodeCSV(r io.Reader, w io.Writer, errw io.Writer, ix *Index, opt CSVOptions) (CSVStats, error) {
	block := max(8<<20, csvBlockRowsBytes/runtime.GOMAXPROCS(0))
	return geocodeCSV(r, w, errw, ix, opt, block, maxCSVLine)
}

// geocodeCSV is GeocodeCSV with the block size and the line limit as
// parameters, so that tests can cut small inputs into many blocks.
func geocodeCSV(r io.Reader, w io.Writer, errw io.Writer, ix *Index, opt CSVOptions, chunkBytes, maxLine int) (CSVStats, error) {
	if chunkBytes < maxLine+1 {
		chunkBytes = maxLine + 1
	}
	workers := runtime.GOMAXPROCS(0)
	p := &csvPipeline{
		ix: ix, opt: opt, chunkBytes: chunkBytes, maxLine: maxLine,
		free: make(chan *csvChunk, workers+1),
		work: make(chan *csvChunk, workers+1),
		done: make(chan *csvChunk, workers+1),
		quit: make(chan struct{}),
	}
	for i := 0; i < workers+1; i++ {
		p.free <- &csvChunk{}
	}
	readErr := make(chan error, 1)
	go func() {
		readErr <- p.read(r)
		close(p.work)
	}()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.process()
		}()
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()

	var st CSVStats
	pending := map[int]*csvChunk{}
	next := 0
	for c := range p.done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			var werr error
			if _, err := errw.Write(c.errs); err != nil {
				werr = fmt.Errorf("write errors: %w", err)
			} else if err := p.write(w, c, &st); err != nil {
				werr = fmt.Errorf("write: %w", err)
			}
			if werr != nil {
				// The reader and the workers see quit and stop.
				close(p.quit)
				return st, werr
			}
			p.free <- c
		}
	}
	if err := <-readErr; err != nil {
		return st, err
	}
	return st, nil
}

// csvPipeline moves blocks of input from the reader through the workers to
// the writer; free bounds the blocks in flight and so the memory.
type csvPipeline struct {
	ix                  *Index
	opt                 CSVOptions
	chunkBytes, maxLine int

	free, work, done chan *csvChunk
	quit             chan struct{}
	out              []byte // the writer's buffer
	// inside[insideStart[id]:insideStart[id+1]] ends the row of a point
	// inside leaf id.
	inside      []byte
	insideStart []int32
}

// csvChunk is one block of whole lines and, once processed, its rows.
type csvChunk struct {
	seq       int
	firstLine int    // line number before the block's first line
	buf       []byte // the block's storage
	data      []byte // whole lines; at the end of input the last may lack '\n'
	lines     int    // the number of lines in data
	long      bool   // instead of data: one line longer than the limit, skipped

	rows   int // parsed so far
	xs, ys []float64
	idA    []int32 // a row's id is data[idA:idB], or side[idA:idB] when quoted
	idB    []int32
	flags  []uint8
	res    []int32
	side   []byte // ids that are not a plain slice of data

	errs []byte // the block's bad rows, reported
}

const (
	rowBad    = 1 << iota // invalid: written as such, reported on errs
	rowSideID             // the id lives in side and may need quoting
)

// read cuts r into blocks of whole lines.
func (p *csvPipeline) read(r io.Reader) error {
	var carry []byte // the start of a line cut by the previous block
	line, seq := 0, 0
	take := func() *csvChunk {
		select {
		case c := <-p.free:
			return c
		case <-p.quit:
			return nil
		}
	}
	send := func(c *csvChunk) bool {
		c.seq = seq
		seq++
		select {
		case p.work <- c:
			return true
		case <-p.quit:
			return false
		}
	}
	for {
		c := take()
		if c == nil {
			return nil
		}
		if c.buf == nil {
			c.buf = make([]byte, p.chunkBytes)
		}
		n := copy(c.buf, carry)
		m, err := io.ReadFull(r, c.buf[n:])
		n += m
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("read line %d: %w", line+1, err)
		}
		data := c.buf[:n]
		carry = carry[:0]
		if !eof {
			cut := bytes.LastIndexByte(data, '\n')
			if cut < 0 {
				// One line fills the whole block: report it and skip to
				// its end.
				c.long, c.data, c.lines, c.firstLine = true, nil, 1, line
				line++
				rest, err := skipLine(r, c.buf)
				if err != nil {
					return fmt.Errorf("read line %d: %w", line, err)
				}
				carry = append(carry, rest...)
				if !send(c) {
					return nil
				}
				continue
			}
			carry = append(carry, data[cut+1:]...)
			data = data[:cut+1]
		}
		if len(data) == 0 {
			p.free <- c
			return nil
		}
		c.long, c.data, c.firstLine = false, data, line
		c.lines = bytes.Count(data, []byte{'\n'})
		line += c.lines
		if data[len(data)-1] != '\n' {
			c.lines++
		}
		if !send(c) {
			return nil
		}
		if eof {
			return nil
		}
	}
}

// skipLine reads r up to and past the next '\n', using buf as scratch, and
// returns what it read after the '\n'.
func skipLine(r io.Reader, buf []byte) ([]byte, error) {
	for {
		n, err := r.Read(buf)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return buf[i+1 : n], nil
		}
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// process parses and geocodes the blocks of p.work.
func (p *csvPipeline) process() {
	for c := range p.work {
		c.reset()
		if c.long {
			c.errs = fmt.Appendf(c.errs, "line %d: longer than %d bytes\n", c.firstLine+1, p.maxLine)
			c.addSide(nil, rowBad)
		} else {
			c.parse(p.opt, p.maxLine)
		}
		c.trim()
		c.geocode(p.ix, p.opt)
		select {
		case p.done <- c:
		case <-p.quit:
			return
		}
	}
}

// reset makes room for a row a line: no row takes more than one.
func (c *csvChunk) reset() {
	n := c.lines
	if cap(c.xs) < n {
		c.xs, c.ys = make([]float64, n), make([]float64, n)
		c.idA, c.idB, c.flags = make([]int32, n), make([]int32, n), make([]uint8, n)
		c.res = make([]int32, n)
	}
	c.xs, c.ys = c.xs[:n], c.ys[:n]
	c.idA, c.idB, c.flags, c.res = c.idA[:n], c.idB[:n], c.flags[:n], c.res[:n]
	c.rows = 0
	c.side, c.errs = c.side[:0], c.errs[:0]
}

// trim cuts the row arrays to the rows parsed.
func (c *csvChunk) trim() {
	n := c.rows
	c.xs, c.ys = c.xs[:n], c.ys[:n]
	c.idA, c.idB, c.flags, c.res = c.idA[:n], c.idB[:n], c.flags[:n], c.res[:n]
}

func (c *csvChunk) add(a, b int, lon, lat float64, flags uint8) {
	n := c.rows
	c.xs[n], c.ys[n] = lon, lat
	c.idA[n], c.idB[n] = int32(a), int32(b)
	c.flags[n] = flags
	c.rows = n + 1
}

// parse reads the rows of the block.
func (c *csvChunk) parse(opt CSVOptions, maxLine int) {
	d := c.data
	line := c.firstLine
	for pos := 0; pos < len(d); {
		line++
		if next, ok := c.fastRow(d, pos, opt.CRS, maxLine); ok {
			pos = next
			continue
		}
		var raw []byte
		if e := bytes.IndexByte(d[pos:], '\n'); e >= 0 {
			raw, pos = d[pos:pos+e], pos+e+1
		} else {
			raw, pos = d[pos:], len(d)
		}
		c.slowRow(raw, line, opt.CRS, maxLine)
	}
}

// fastRow parses the row at d[pos:] when it has the usual shape: an id
// without quotes, two decimals of at most 15 digits within range, and '\n'
// (or "\r\n", or the end of input). It returns where the next row starts.
// The numbers come out bit for bit as strconv.ParseFloat gives them (see
// fastDecimal); any other row is left to slowRow.
func (c *csvChunk) fastRow(d []byte, pos int, crs geo.CRS, maxLine int) (int, bool) {
	i, ok := plainID(d, pos)
	if !ok {
		return 0, false
	}
	idEnd := i
	lon, i, ok := fastDecimal(d, i+1)
	if !ok || i == len(d) || d[i] != ',' {
		return 0, false
	}
	lat, i, ok := fastDecimal(d, i+1)
	if !ok {
		return 0, false
	}
	end := i // of the line, '\r' included
	switch {
	case i == len(d):
	case d[i] == '\n':
		i++
	case d[i] == '\r' && i+1 < len(d) && d[i+1] == '\n':
		end, i = i+1, i+2
	default:
		return 0, false
	}
	if end-pos > maxLine {
		return 0, false
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return 0, false
	}
	lon, lat = geo.ToWGS84(crs, lon, lat)
	c.add(pos, idEnd, lon, lat, 0)
	return i, true
}

// plainID finds the comma that ends the id at d[pos:], refusing ids with
// a quote or a line break. It looks at eight bytes at a time.
func plainID(d []byte, i int) (int, bool) {
	for ; i+8 <= len(d); i += 8 {
		u := binary.LittleEndian.Uint64(d[i:])
		comma := bytesEqual(u, ',')
		odd := bytesEqual(u, '"') | bytesEqual(u, '\n') | bytesEqual(u, '\r')
		if comma != 0 {
			k := bits.TrailingZeros64(comma)
			if odd&(1<<k-1) != 0 {
				return 0, false
			}
			return i + k>>3, true
		}
		if odd != 0 {
			return 0, false
		}
	}
	for ; i < len(d); i++ {
		switch d[i] {
		case ',':
			return i, true
		case '"', '\n', '\r':
			return 0, false
		}
	}
	return 0, false
}

// bytesEqual has the high bit of each byte of u that equals c set, and no
// other bit: no carry crosses from one byte to the next.
func bytesEqual(u uint64, c byte) uint64 {
	x := u ^ (0x0101010101010101 * uint64(c))
	return ^((x&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | x) & 0x8080808080808080
}

// fastDecimal parses [-]digits[.digits] with 1 to 15 digits in all by
// Clinger's fast path: the digits as an integer and the power of ten are
// both exact in float64, so one correctly rounded division gives the same
// bits as strconv.ParseFloat. Runs of digits are read eight bytes at a time
// where the block has eight bytes left.
func fastDecimal(d []byte, i int) (float64, int, bool) {
	neg := i < len(d) && d[i] == '-'
	if neg {
		i++
	}
	mant, digits, i := digitRun(d, i)
	frac := 0
	if i < len(d) && d[i] == '.' {
		var f uint64
		f, frac, i = digitRun(d, i+1)
		if frac > 15 {
			return 0, i, false
		}
		mant = mant*pow10u[frac] + f
		digits += frac
	}
	if digits == 0 || digits > 15 {
		return 0, i, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, i, true
}

// digitRun reads the run of ASCII digits at d[i:], returning its value
// (meaningful when it has at most 15 digits), its length and its end.
func digitRun(d []byte, i int) (uint64, int, int) {
	start := i
	var v uint64
	if i+8 <= len(d) {
		u := binary.LittleEndian.Uint64(d[i:]) ^ 0x3030303030303030
		// A byte is a digit when it is below 10 after the xor: adding
		// 0x76 to its low seven bits sets the high bit otherwise; the
		// byte's own high bit marks the rest.
		nd := ((u & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676 | u) & 0x8080808080808080
		k := 8
		if nd != 0 {
			k = bits.TrailingZeros64(nd) >> 3
		}
		if k < 8 {
			if k == 0 {
				return 0, 0, i
			}
			return eightDigits(u << (64 - 8*k)), k, i + k
		}
		v, i = eightDigits(u), i+8
	}
	for ; i < len(d) && d[i]-'0' < 10; i++ {
		v = v*10 + uint64(d[i]-'0')
	}
	return v, i - start, i
}

// pow10u are the powers of ten up to 10^15 as integers.
var pow10u = [16]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// eightDigits converts eight digit values, the first in the lowest byte,
// to their number with three multiplications.
func eightDigits(u uint64) uint64 {
	u = (u * (10<<8 + 1)) >> 8 & 0x00ff00ff00ff00ff
	u = (u * (100<<16 + 1)) >> 16 & 0x0000ffff0000ffff
	return (u * (10000<<32 + 1)) >> 32
}

// slowRow parses one line of any shape, reporting what is wrong with it.
func (c *csvChunk) slowRow(raw []byte, line int, crs geo.CRS, maxLine int) {
	if len(raw) > maxLine {
		c.errs = fmt.Appendf(c.errs, "line %d: longer than %d bytes\n", line, maxLine)
		c.addSide(nil, rowBad)
		return
	}
	raw = bytes.TrimRight(raw, "\r\n")
	if len(bytes.TrimSpace(raw)) == 0 {
		return
	}
	id, lonF, latF, err := splitRow(raw)
	if err == nil && line == 1 && isHeader(lonF, latF) {
		return
	}
	var lon, lat float64
	if err == nil {
		lon, lat, err = parseLonLat(lonF, latF)
	}
	if err != nil {
		c.errs = fmt.Appendf(c.errs, "line %d: %v\n", line, err)
		c.addSide(id, rowBad)
		return
	}
	lon, lat = geo.ToWGS84(crs, lon, lat)
	a := len(c.side)
	c.side = append(c.side, id...)
	c.add(a, len(c.side), lon, lat, rowSideID)
}

func (c *csvChunk) addSide(id []byte, flags uint8) {
	a := len(c.side)
	c.side = append(c.side, id...)
	c.add(a, len(c.side), math.NaN(), math.NaN(), flags|rowSideID)
}

// geocode locates the block's rows, snapping those outside every grid
// when asked to.
func (c *csvChunk) geocode(ix *Index, opt CSVOptions) {
	n := len(c.xs)
	ix.LocateBatch(c.xs, c.ys, c.res)
	if opt.SnapM <= 0 {
		return
	}
	for i := 0; i < n; i++ {
		if c.res[i] < 0 && c.flags[i]&rowBad == 0 {
			if m := ix.Locate(c.xs[i], c.ys[i], opt.SnapM); m.Status == Snapped {
				c.res[i] = int32(ix.leafID(m.Grid)) | snappedBit
			}
		}
	}
}

// snappedBit marks a result found by snapping; leaf ids stay far below it.
const snappedBit = 1 << 30

// write writes the block's output rows to w through the pipeline's
// buffer, and counts them.
func (p *csvPipeline) write(w io.Writer, c *csvChunk, st *CSVStats) error {
	if p.inside == nil {
		p.insideRows()
	}
	out := p.out[:0]
	codes := p.ix
	for i, f := range c.flags {
		if len(out) > csvOutFlush {
			if _, err := w.Write(out); err != nil {
				return err
			}
			out = out[:0]
		}
		if f&rowSideID == 0 {
			out = append(out, c.data[c.idA[i]:c.idB[i]]...)
		} else {
			out = appendCSVField(out, c.side[c.idA[i]:c.idB[i]])
		}
		res := c.res[i]
		switch {
		case f&rowBad != 0:
			st.Invalid++
			out = append(out, ",,invalid\n"...)
		case res < 0:
			st.Unassigned++
			out = append(out, ",,unassigned\n"...)
		case res&snappedBit != 0:
			st.Snapped++
			out = append(out, ',')
			out = append(out, codes.leafCode(res&^snappedBit)...)
			out = append(out, ",snapped\n"...)
		default:
			st.Inside++
			out = append(out, p.inside[p.insideStart[res]:p.insideStart[res+1]]...)
		}
	}
	st.Rows += len(c.flags)
	if len(out) > 0 {
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	p.out = out[:0]
	return nil
}

// insideRows writes out the ends of the output rows of points inside,
// `,code,inside\n` for each leaf, so that a row takes two copies.
func (p *csvPipeline) insideRows() {
	n := len(p.ix.leaves)
	p.insideStart = make([]int32, n+1)
	for id := 0; id < n; id++ {
		p.inside = append(p.inside, ',')
		p.inside = append(p.inside, p.ix.leafCode(int32(id))...)
		p.inside = append(p.inside, ",inside\n"...)
		p.insideStart[id+1] = int32(len(p.inside))
	}
}

// csvOutFlush is the size at which output is handed to the writer.
const csvOutFlush = 1 << 20

// splitRow splits `id,lon,lat`; quoted fields go through encoding/csv.
func splitRow(raw []byte) (id, lon, lat []byte, err error) {
	if bytes.IndexByte(raw, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(raw)).Read()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("bad CSV: %v", err)
		}
		if len(rec) != 3 {
			return nil, nil, nil, fmt.Errorf("want 3 fields id,lon,lat, got %d", len(rec))
		}
		return []byte(rec[0]), []byte(rec[1]), []byte(rec[2]), nil
	}
	c1 := bytes.IndexByte(raw, ',')
	if c1 < 0 {
		return raw, nil, nil, errors.New("want 3 fields id,lon,lat, got 1")
	}
	rest := raw[c1+1:]
	c2 := bytes.IndexByte(rest, ',')
	if c2 < 0 {
		return raw[:c1], nil, nil, errors.New("want 3 fields id,lon,lat, got 2")
	}
	if bytes.IndexByte(rest[c2+1:], ',') >= 0 {
		return raw[:c1], nil, nil, fmt.Errorf("want 3 fields id,lon,lat, got %d", 3+bytes.Count(rest[c2+1:], []byte{','}))
	}
	return raw[:c1], rest[:c2], rest[c2+1:], nil
}

func isHeader(lon, lat []byte) bool {
	l := bytes.ToLower(bytes.TrimSpace(lon))
	return bytes.Equal(l, []byte("lon")) || bytes.Equal(l, []byte("lng")) || bytes.Equal(l, []byte("longitude")) || bytes.Equal(l, []byte("x"))
}

func parseLonLat(lonF, latF []byte) (float64, float64, error) {
	lon, err := parseFloat(bytes.TrimSpace(lonF))
	if err != nil {
		return 0, 0, fmt.Errorf("lon %q is not a number", lonF)
	}
	lat, err := parseFloat(bytes.TrimSpace(latF))
	if err != nil {
		return 0, 0, fmt.Errorf("lat %q is not a number", latF)
	}
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return 0, 0, errors.New("lon and lat must be finite")
	}
	if lon < -180 || lon > 180 {
		return 0, 0, fmt.Errorf("lon %v is outside -180..180", lon)
	}
	if lat < -90 || lat > 90 {
		return 0, 0, fmt.Errorf("lat %v is outside -90..90", lat)
	}
	return lon, lat, nil
}

// pow10 are the powers of ten that float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a coordinate: plain decimals through fastDecimal,
// anything else (exponents, long mantissas, signs written as '+', junk)
// through strconv, with the same bits either way.
func parseFloat(b []byte) (float64, error) {
	if f, end, ok := fastDecimal(b, 0); ok && end == len(b) {
		return f, nil
	}
	return strconv.ParseFloat(string(b), 64)
}

// appendCSVField appends f, quoted when it holds a comma, a quote or a
// line break.
func appendCSVField(out, f []byte) []byte {
	if !bytes.ContainsAny(f, ",\"\r\n") {
		return append(out, f...)
	}
	out = append(out, '"')
	out = append(out, bytes.ReplaceAll(f, []byte{'"'}, []byte{'"', '"'})...)
	return append(out, '"')
}
