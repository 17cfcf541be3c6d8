package grids

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"

	"github.com/gridd/gridd/geo"
)

// CSVOptions control GeocodeCSV.
type CSVOptions struct {
	CRS   geo.CRS
	SnapM float64
	// Batch is the number of rows geocoded together (default 524,288).
	Batch int
}

// CSVStats counts a GeocodeCSV run's rows by outcome.
type CSVStats struct {
	Rows, Inside, Snapped, Unassigned, Invalid int
}

const maxCSVLine = 1 << 20

// GeocodeCSV reads rows `id,lon,lat` (a header row is optional) and writes
// `id,grid_code,status` in input order. A bad row is reported on errw with
// its line number and written with status invalid; the run goes on.
//
// Reading and parsing run on their own goroutine, a batch ahead of the
// geocoding and writing, and rows are geocoded a batch at a time with
// LocateBatch: on two cores parsing then overlaps the lookups instead of
// adding to them.
func GeocodeCSV(r io.Reader, w io.Writer, errw io.Writer, ix *Index, opt CSVOptions) (CSVStats, error) {
	if opt.Batch <= 0 {
		opt.Batch = 1 << 19
	}
	var st CSVStats
	bw := bufio.NewWriterSize(w, 1<<20)

	free := make(chan *csvBatch, 2)
	full := make(chan *csvBatch, 2)
	free <- newCSVBatch(opt.Batch)
	free <- newCSVBatch(opt.Batch)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		readErr <- readCSVBatches(r, errw, opt, free, full, quit)
		close(full)
	}()

	for b := range full {
		b.geocode(ix, opt)
		for i := range b.xs {
			writeCSVField(bw, b.ids[b.idStart[i]:b.idStart[i+1]])
			bw.WriteByte(',')
			st.Rows++
			switch {
			case b.bad[i]:
				st.Invalid++
				bw.WriteString(",invalid\n")
			case b.out[i] >= 0:
				bw.Write(ix.leafCode(b.out[i]))
				if b.snapped[i] {
					st.Snapped++
					bw.WriteString(",snapped\n")
				} else {
					st.Inside++
					bw.WriteString(",inside\n")
				}
			default:
				st.Unassigned++
				bw.WriteString(",unassigned\n")
			}
		}
		b.reset()
		free <- b
	}
	if err := <-readErr; err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("write: %w", err)
	}
	return st, nil
}

// readCSVBatches parses rows into batches taken from free and hands them on
// to full, reporting bad rows on errw.
func readCSVBatches(r io.Reader, errw io.Writer, opt CSVOptions, free <-chan *csvBatch, full chan<- *csvBatch, quit <-chan struct{}) error {
	br := bufio.NewReaderSize(r, maxCSVLine)
	ew := bufio.NewWriter(errw)
	defer ew.Flush()
	var b *csvBatch
	take := func() bool {
		select {
		case b = <-free:
			return true
		case <-quit:
			return false
		}
	}
	send := func() bool {
		select {
		case full <- b:
			b = nil
			return true
		case <-quit:
			return false
		}
	}
	if !take() {
		return nil
	}
	line := 0
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: report it, skip to its end.
			line++
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			fmt.Fprintf(ew, "line %d: longer than %d bytes\n", line, maxCSVLine)
			b.addBad(nil)
		} else {
			if len(raw) == 0 && err == io.EOF {
				break
			}
			if err != nil && err != io.EOF {
				return fmt.Errorf("read line %d: %w", line+1, err)
			}
			line++
			raw = bytes.TrimRight(raw, "\r\n")
			if len(bytes.TrimSpace(raw)) > 0 {
				id, lonF, latF, perr := splitRow(raw)
				header := perr == nil && line == 1 && isHeader(lonF, latF)
				var lon, lat float64
				if perr == nil && !header {
					lon, lat, perr = parseLonLat(lonF, latF)
				}
				switch {
				case header:
				case perr != nil:
					fmt.Fprintf(ew, "line %d: %v\n", line, perr)
					b.addBad(id)
				default:
					lon, lat = geo.ToWGS84(opt.CRS, lon, lat)
					b.add(id, lon, lat)
				}
			}
		}
		if len(b.xs) == opt.Batch {
			if !send() || !take() {
				return nil
			}
		}
		if err == io.EOF {
			break
		}
	}
	if len(b.xs) > 0 {
		send()
	}
	return nil
}

type csvBatch struct {
	ids     []byte
	idStart []int
	xs, ys  []float64
	bad     []bool
	snapped []bool
	out     []int32
}

func newCSVBatch(n int) *csvBatch {
	return &csvBatch{ids: make([]byte, 0, 8*n), idStart: make([]int, 1, n+1), xs: make([]float64, 0, n), ys: make([]float64, 0, n),
		bad: make([]bool, 0, n), out: make([]int32, n), snapped: make([]bool, n)}
}

func (b *csvBatch) reset() {
	b.ids = b.ids[:0]
	b.idStart = b.idStart[:1]
	b.xs, b.ys, b.bad = b.xs[:0], b.ys[:0], b.bad[:0]
}

func (b *csvBatch) add(id []byte, lon, lat float64) {
	b.ids = append(b.ids, id...)
	b.idStart = append(b.idStart, len(b.ids))
	b.xs, b.ys, b.bad = append(b.xs, lon), append(b.ys, lat), append(b.bad, false)
}

func (b *csvBatch) addBad(id []byte) {
	b.add(id, math.NaN(), math.NaN())
	b.bad[len(b.bad)-1] = true
}

func (b *csvBatch) geocode(ix *Index, opt CSVOptions) {
	n := len(b.xs)
	ix.LocateBatch(b.xs, b.ys, b.out[:n])
	for i := 0; i < n; i++ {
		b.snapped[i] = false
		if b.out[i] < 0 && opt.SnapM > 0 && !b.bad[i] {
			if m := ix.Locate(b.xs[i], b.ys[i], opt.SnapM); m.Status == Snapped {
				b.out[i] = int32(ix.leafID(m.Grid))
				b.snapped[i] = true
			}
		}
	}
}

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

// parseFloat parses a coordinate. Plain decimals of up to 15 significant
// digits take Clinger's fast path: the digits as an integer and the power
// of ten are both exact in float64, so one correctly rounded division gives
// the same bits as strconv.ParseFloat. Anything else (exponents, long
// mantissas, signs written as '+', junk) goes to strconv.
func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty")
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if mant == 0 && c == '0' && !dot {
				continue // leading zeros
			}
			mant = mant*10 + uint64(c-'0')
			if mant != 0 {
				digits++
			}
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
		}
	}
	if digits > 15 || frac > 22 || (i == 1 && neg) || (dot && len(b) == 1+btoi(neg)) {
		return strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeCSVField(w *bufio.Writer, f []byte) {
	if bytes.ContainsAny(f, ",\"\r\n") {
		w.WriteByte('"')
		w.Write(bytes.ReplaceAll(f, []byte{'"'}, []byte{'"', '"'}))
		w.WriteByte('"')
		return
	}
	w.Write(f)
}
