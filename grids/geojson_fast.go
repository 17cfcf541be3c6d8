package grids

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gridd/gridd/geo"
	"github.com/paulmach/orb"
)

// The fast reader.
//
// readFeatureCollectionFast reads a FeatureCollection held in memory with a
// hand-written JSON parser, and gives exactly what the encoding/json reader
// (readFeatureCollection) gives for the same bytes: the same grids, down to
// the bits of every coordinate, and the same problems in the same words. It
// takes only what it can be sure of:
//
//   - The file as a whole must be valid JSON, a FeatureCollection with one
//     "features" array, with no member name escaped. Anything else, valid or
//     not, is left to encoding/json, which words every file error.
//   - A feature in the common form (an object whose member names are plain
//     lower-case ASCII and appear once, a null or object geometry) is split
//     here. Its properties are decoded here unless they hold escaped or
//     invalid UTF-8 strings or numbers out of range, and a Polygon's or
//     MultiPolygon's coordinates unless they hold anything but arrays of
//     positions of two or more numbers in range. Any other feature,
//     properties or coordinates are checked to be valid JSON here, then
//     decoded by encoding/json as the reference reader does. The checks that
//     follow (readFeature) are the reference reader's own.
//
// The features array is split into chunks decoded in parallel. A chunk
// starts at a guess, the first '{' after "}," past a given offset, which
// is nearly always the start of a feature but might be inside one (in a
// string, or nested properties). Guesses are confirmed in file order after
// the work: the first chunk starts at the first feature, and a chunk read
// from a feature's start that stops exactly where the next one starts,
// after a comma between features, confirms that start. Where a chunk stops
// anywhere else (it read past the next start, or the next chunk started
// inside a feature), reading goes on from there in file order. Only chunks
// with confirmed starts count.

// fastMaxDepth is the nesting, within a feature or a top-level member,
// beyond which the fast reader leaves the file to encoding/json (whose own
// limit is 10,000).
const fastMaxDepth = 1000

// fastStats says how much of a file the fast reader left to encoding/json.
type fastStats struct {
	slowFeatures   int // features decoded by encoding/json
	slowProperties int // other features' properties decoded by encoding/json
	slowGeometries int // Polygon or MultiPolygon coordinates decoded by encoding/json
	chunks         int // chunks the features array was read in
	rereads        int // chunks read again from a confirmed start
}

// fastChunkSize is how many bytes of features each parallel task gets.
func fastChunkSize(n int) int {
	return max(n/(16*runtime.GOMAXPROCS(0)), 256<<10)
}

// readAllHinted reads r to its end, sizing the buffer from r when r tells
// its length.
func readAllHinted(r io.Reader) ([]byte, error) {
	size := 0
	switch r := r.(type) {
	case interface{ Len() int }:
		size = r.Len()
	case *os.File:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() <= math.MaxInt-bytes.MinRead {
			size = int(fi.Size())
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// readFeatureCollectionFast reads a FeatureCollection held in memory and
// returns every feature's grid and problems in file order, as
// readFeatureCollection would. ok is false when the file must be read by
// readFeatureCollection instead. Features are read in chunks of about
// chunkSize bytes.
func readFeatureCollectionFast(data []byte, crs geo.CRS, chunkSize int) (gs []*Grid, errs [][]FeatureError, st fastStats, ok bool) {
	i := jsonSkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, nil, st, false
	}
	var typ []byte
	sawFeatures := false
	i = jsonSkipSpace(data, i+1)
	for {
		key, end, escaped, valid := jsonScanKey(data, i)
		if !valid || escaped {
			return nil, nil, st, false
		}
		i = jsonSkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, nil, st, false
		}
		i = jsonSkipSpace(data, i+1)
		switch string(key) {
		case "features":
			if sawFeatures || i >= len(data) || data[i] != '[' {
				return nil, nil, st, false
			}
			sawFeatures = true
			gs, errs, st, end, valid = readFeaturesFast(data, i, crs, chunkSize)
		case "type":
			typ = nil
			if end, valid = jsonSkipValue(data, i, 0); valid {
				typ = data[i:end]
			}
		default:
			end, valid = jsonSkipValue(data, i, 0)
		}
		if !valid {
			return nil, nil, st, false
		}
		i = jsonSkipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = jsonSkipSpace(data, i+1)
			continue
		}
		if i >= len(data) || data[i] != '}' {
			return nil, nil, st, false
		}
		break
	}
	if jsonSkipSpace(data, i+1) != len(data) || typ == nil || !jsonStringIs(typ, "FeatureCollection") || !sawFeatures {
		return nil, nil, st, false
	}
	return gs, errs, st, true
}

// fastChunk is a run of features read by one task: from start, a feature's
// first byte, to end, the first byte of the feature at or after stop, or
// the closing ']' of the array.
type fastChunk struct {
	start, stop int
	end         int
	closed      bool // end is the array's closing ']'
	bad         bool // not valid JSON, or too deep, from start on
	gs          []*Grid
	errs        [][]FeatureError
	st          fastStats
}

// readFeaturesFast reads the features array whose '[' is at data[open]. It
// returns the grids and problems, and the end of the array.
func readFeaturesFast(data []byte, open int, crs geo.CRS, chunkSize int) ([]*Grid, [][]FeatureError, fastStats, int, bool) {
	var st fastStats
	first := jsonSkipSpace(data, open+1)
	if first < len(data) && data[first] == ']' {
		return []*Grid{}, [][]FeatureError{}, st, first + 1, true
	}

	// Guess where chunks start, and read them all in parallel.
	starts := []int{first}
	for at := first + chunkSize; at < len(data); {
		s := nextFeatureGuess(data, at)
		if s < 0 {
			break
		}
		starts = append(starts, s)
		at = s + chunkSize
	}
	chunks := make([]*fastChunk, len(starts))
	for k, s := range starts {
		chunks[k] = &fastChunk{start: s, stop: math.MaxInt}
		if k+1 < len(starts) {
			chunks[k].stop = starts[k+1]
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) {
		wg.Go(func() {
			p := &featureParser{data: data, crs: crs}
			for {
				k := int(next.Add(1)) - 1
				if k >= len(chunks) {
					return
				}
				p.readChunk(chunks[k])
			}
		})
	}
	wg.Wait()

	// Confirm the chunks in file order, reading again from where a chunk
	// did not end at the next one's start.
	var gs []*Grid
	var errs [][]FeatureError
	var p *featureParser
	c, k := chunks[0], 0
	for {
		if c.bad {
			return nil, nil, st, 0, false
		}
		base := len(gs)
		for _, fes := range c.errs {
			for j := range fes {
				fes[j].Index += base
			}
		}
		gs = append(gs, c.gs...)
		errs = append(errs, c.errs...)
		st.slowFeatures += c.st.slowFeatures
		st.slowProperties += c.st.slowProperties
		st.slowGeometries += c.st.slowGeometries
		st.chunks++
		if c.closed {
			return gs, errs, st, c.end + 1, true
		}
		// c stopped at or past a guess: c.end is a feature's start.
		for k++; k < len(starts) && starts[k] < c.end; k++ {
		}
		if k < len(starts) && starts[k] == c.end {
			c = chunks[k]
			continue
		}
		if p == nil {
			p = &featureParser{data: data, crs: crs}
		}
		c = &fastChunk{start: c.end, stop: math.MaxInt}
		if k < len(starts) {
			c.stop = starts[k]
		}
		k--
		p.readChunk(c)
		st.rereads++
	}
}

// nextFeatureGuess finds the first '{' at or after from that follows "},"
// (give or take whitespace), or -1.
func nextFeatureGuess(data []byte, from int) int {
	for from < len(data) {
		c := bytes.IndexByte(data[from:], ',')
		if c < 0 {
			return -1
		}
		c += from
		from = c + 1
		b := c - 1
		for b >= 0 && isJSONSpace(data[b]) {
			b--
		}
		if b < 0 || data[b] != '}' {
			continue
		}
		if a := jsonSkipSpace(data, c+1); a < len(data) && data[a] == '{' {
			return a
		}
	}
	return -1
}

// featureParser decodes features; each worker has its own, for its
// scratch space.
type featureParser struct {
	data  []byte
	crs   geo.CRS
	pts   []orb.Point // positions of the coordinates being read
	rings []int       // end of each ring in pts
	polys []int       // end of each polygon in rings
}

// readChunk reads features from c.start until the first one at or after
// c.stop, or the end of the array.
func (p *featureParser) readChunk(c *fastChunk) {
	data := p.data
	i := c.start
	for {
		doc, end, ok := p.splitFeature(i)
		if !ok {
			// Not in the common form: check it, then decode it as the
			// reference reader does.
			var valid bool
			if end, valid = jsonSkipValue(data, i, 0); !valid {
				c.bad = true
				return
			}
			doc = featureDoc{}
			if keepTypeError(&doc, json.Unmarshal(data[i:end], &doc)) != nil {
				c.bad = true
				return
			}
			c.st.slowFeatures++
		} else {
			if doc.props == nil && !isNull(doc.Properties) {
				c.st.slowProperties++
			}
			if doc.Geometry != nil && doc.Geometry.parsed == nil && isPolygonal(doc.Geometry.Type) && !isNull(doc.Geometry.Coordinates) {
				c.st.slowGeometries++
			}
		}
		g, fes := readFeature(len(c.gs), &doc, p.crs)
		c.gs = append(c.gs, g)
		c.errs = append(c.errs, fes)

		i = jsonSkipSpace(data, end)
		if i >= len(data) {
			c.bad = true
			return
		}
		switch data[i] {
		case ']':
			c.closed, c.end = true, i
			return
		case ',':
			i = jsonSkipSpace(data, i+1)
			if i >= c.stop {
				c.end = i
				return
			}
		default:
			c.bad = true
			return
		}
	}
}

// Member names of a feature and of a geometry. encoding/json matches them
// to featureDoc's and geometryDoc's fields case-insensitively.
var (
	featureMembers  = []string{"type", "properties", "geometry"}
	geometryMembers = []string{"type", "coordinates", "geometries"}
)

// memberIndex finds a plain ASCII member name among names: its index, -1
// for a name encoding/json ignores, or -2 for one it would match another
// way (case-insensitively) or might (non-ASCII names, which it folds).
func memberIndex(key []byte, names []string) int {
	for _, c := range key {
		if c >= 0x80 {
			return -2
		}
	}
	for k, name := range names {
		if string(key) == name {
			return k
		}
		if bytes.EqualFold(key, []byte(name)) {
			return -2
		}
	}
	return -1
}

// splitFeature splits the feature at data[i:] if it is in the common form,
// with the coordinates of a Polygon or MultiPolygon decoded when they can
// be. ok is false for any other feature, which may or may not be valid
// JSON.
func (p *featureParser) splitFeature(i int) (doc featureDoc, end int, ok bool) {
	data := p.data
	if i >= len(data) || data[i] != '{' {
		return doc, i, false
	}
	end, ok = jsonMembers(data, i, featureMembers, func(m, i int) (end int, valid bool) {
		switch m {
		case 0:
			end, valid = jsonSkipValue(data, i, 0)
			doc.Type = data[i:end]
		case 1:
			if doc.props, end, valid = jsonDecodeObject(data, i, 0); !valid {
				doc.props = nil
				end, valid = jsonSkipValue(data, i, 0)
			}
			doc.Properties = data[i:end]
		case 2:
			switch {
			case i < len(data) && data[i] == '{':
				doc.Geometry, end, valid = p.splitGeometry(i)
			case bytes.HasPrefix(data[i:], []byte("null")):
				doc.Geometry, end, valid = nil, i+4, true
			}
		default:
			end, valid = jsonSkipValue(data, i, 0)
		}
		return end, valid
	})
	return doc, end, ok
}

// splitGeometry splits the geometry object at data[i:] if it is in the common
// form, decoding a Polygon's or MultiPolygon's coordinates.
func (p *featureParser) splitGeometry(i int) (*geometryDoc, int, bool) {
	data := p.data
	gd := &geometryDoc{}
	end, ok := jsonMembers(data, i, geometryMembers, func(m, i int) (end int, valid bool) {
		switch m {
		case 0:
			end, valid = jsonSkipValue(data, i, 1)
			gd.Type = data[i:end]
		case 1:
			// Decoded as read when the type came first.
			if gd.parsed, end = p.coordinates(data, i, gd.Type); gd.parsed == nil {
				end, valid = jsonSkipValue(data, i, 1)
			} else {
				valid = true
			}
			gd.Coordinates = data[i:end]
		case 2:
			end, valid = jsonSkipValue(data, i, 1)
			gd.Geometries = data[i:end]
		default:
			end, valid = jsonSkipValue(data, i, 1)
		}
		return end, valid
	})
	if !ok {
		return nil, end, false
	}
	if gd.parsed == nil && gd.Coordinates != nil {
		// The coordinates came before the type.
		if g, cend := p.coordinates(gd.Coordinates, 0, gd.Type); cend == len(gd.Coordinates) {
			gd.parsed = g
		}
	}
	return gd, end, true
}

// jsonMembers reads the members of the object whose '{' is at data[i],
// handing the start of each value to member with the index of its name in
// names (-1 for another name); member returns where the value ends. ok is
// false for an escaped or repeated name (of names), a name memberIndex
// refuses, a value member refuses, or a syntax error.
func jsonMembers(data []byte, i int, names []string, member func(m, i int) (int, bool)) (end int, ok bool) {
	var seenBuf [4]bool // names are few
	seen := seenBuf[:len(names)]
	i = jsonSkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		key, end, escaped, valid := jsonScanKey(data, i)
		if !valid || escaped {
			return i, false
		}
		i = jsonSkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return i, false
		}
		i = jsonSkipSpace(data, i+1)
		m := memberIndex(key, names)
		if m == -2 || m >= 0 && seen[m] {
			return i, false
		}
		if end, valid = member(m, i); !valid {
			return i, false
		}
		if m >= 0 {
			seen[m] = true
		}
		var closed bool
		if i, closed, valid = jsonNext(data, end, '}'); !valid || closed {
			return i, valid
		}
	}
}

// jsonDecodeObject decodes the JSON object at buf[i:], at a nesting of depth,
// into the map encoding/json would give for it. ok is false for anything
// else, and for objects holding strings with escapes or invalid UTF-8 or
// numbers that do not fit a float64: those are left to encoding/json.
func jsonDecodeObject(buf []byte, i, depth int) (m map[string]any, end int, ok bool) {
	if i >= len(buf) || buf[i] != '{' || depth >= fastMaxDepth {
		return nil, i, false
	}
	m = make(map[string]any)
	i = jsonSkipSpace(buf, i+1)
	if i < len(buf) && buf[i] == '}' {
		return m, i + 1, true
	}
	for {
		key, end, escaped, valid := jsonScanKey(buf, i)
		if !valid || escaped || !utf8.Valid(key) {
			return nil, i, false
		}
		if i = jsonSkipSpace(buf, end); i >= len(buf) || buf[i] != ':' {
			return nil, i, false
		}
		v, end, ok := jsonDecodeAny(buf, jsonSkipSpace(buf, i+1), depth+1)
		if !ok {
			return nil, end, false
		}
		m[string(key)] = v
		var closed bool
		if i, closed, ok = jsonNext(buf, end, '}'); !ok {
			return nil, i, false
		} else if closed {
			return m, i, true
		}
	}
}

// jsonDecodeAny decodes the JSON value at buf[i:] as encoding/json decodes into
// an any, with jsonDecodeObject's limits.
func jsonDecodeAny(buf []byte, i, depth int) (v any, end int, ok bool) {
	if i >= len(buf) {
		return nil, i, false
	}
	switch buf[i] {
	case '"':
		end, escaped, valid := jsonScanString(buf, i)
		if !valid || escaped || !utf8.Valid(buf[i+1:end-1]) {
			return nil, i, false
		}
		return string(buf[i+1 : end-1]), end, true
	case '{':
		if m, end, ok := jsonDecodeObject(buf, i, depth); ok {
			return m, end, true
		}
		return nil, i, false
	case '[':
		if depth >= fastMaxDepth {
			return nil, i, false
		}
		a := make([]any, 0)
		i = jsonSkipSpace(buf, i+1)
		if i < len(buf) && buf[i] == ']' {
			return a, i + 1, true
		}
		for {
			if v, i, ok = jsonDecodeAny(buf, i, depth+1); !ok {
				return nil, i, false
			}
			a = append(a, v)
			var closed bool
			if i, closed, ok = jsonNext(buf, i, ']'); !ok {
				return nil, i, false
			} else if closed {
				return a, i, true
			}
		}
	case 't':
		end, ok = jsonSkipLiteral(buf, i, "true")
		return true, end, ok
	case 'f':
		end, ok = jsonSkipLiteral(buf, i, "false")
		return false, end, ok
	case 'n':
		end, ok = jsonSkipLiteral(buf, i, "null")
		return nil, end, ok
	}
	return jsonParseNumber(buf, i)
}

// isPolygonal tells whether a geometry's type member is plainly "Polygon"
// or "MultiPolygon", the types whose coordinates the fast reader decodes.
func isPolygonal(typ []byte) bool {
	return string(typ) == `"Polygon"` || string(typ) == `"MultiPolygon"`
}

// coordinates decodes the coordinates at buf[i:] of a geometry of type typ
// (raw JSON) into an orb.Polygon or orb.MultiPolygon, as encoding/json
// would. It gives nil for any other type, or for coordinates that are not
// arrays of arrays of positions of two or more numbers, each fitting a
// float64; those are left to encoding/json.
func (p *featureParser) coordinates(buf []byte, i int, typ []byte) (orb.Geometry, int) {
	if !isPolygonal(typ) {
		return nil, i
	}
	multi := string(typ) == `"MultiPolygon"`
	p.pts, p.rings, p.polys = p.pts[:0], p.rings[:0], p.polys[:0]
	var ok bool
	if multi {
		i, ok = p.polygons(buf, i)
	} else {
		i, ok = p.polygon(buf, i)
	}
	if !ok {
		return nil, i
	}
	// One array holds every position of the geometry.
	pts := make([]orb.Point, len(p.pts))
	copy(pts, p.pts)
	rings := make([]orb.Ring, len(p.rings))
	from := 0
	for k, to := range p.rings {
		rings[k] = pts[from:to:to]
		from = to
	}
	if !multi {
		return orb.Polygon(rings), i
	}
	mp := make(orb.MultiPolygon, len(p.polys))
	from = 0
	for k, to := range p.polys {
		mp[k] = orb.Polygon(rings[from:to:to])
		from = to
	}
	return mp, i
}

// polygons reads a MultiPolygon's array of polygons.
func (p *featureParser) polygons(buf []byte, i int) (int, bool) {
	return jsonArrayOf(buf, i, func(buf []byte, i int) (int, bool) {
		i, ok := p.polygon(buf, i)
		p.polys = append(p.polys, len(p.rings))
		return i, ok
	})
}

// polygon reads a polygon's array of rings.
func (p *featureParser) polygon(buf []byte, i int) (int, bool) {
	return jsonArrayOf(buf, i, func(buf []byte, i int) (int, bool) {
		i, ok := p.ring(buf, i)
		p.rings = append(p.rings, len(p.pts))
		return i, ok
	})
}

// jsonArrayOf reads the array at buf[i:], each element with elem.
func jsonArrayOf(buf []byte, i int, elem func([]byte, int) (int, bool)) (int, bool) {
	if i >= len(buf) || buf[i] != '[' {
		return i, false
	}
	i = jsonSkipSpace(buf, i+1)
	if i < len(buf) && buf[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = elem(buf, i); !ok {
			return i, false
		}
		var closed bool
		if i, closed, ok = jsonNext(buf, i, ']'); !ok || closed {
			return i, ok
		}
	}
}

// ring reads a ring's array of positions, each of two or more numbers;
// encoding/json reads past those after the first two without decoding them.
func (p *featureParser) ring(buf []byte, i int) (int, bool) {
	if i >= len(buf) || buf[i] != '[' {
		return i, false
	}
	i = jsonSkipSpace(buf, i+1)
	if i < len(buf) && buf[i] == ']' {
		return i + 1, true
	}
	pts := p.pts
	defer func() { p.pts = pts }()
	var x, y float64
	var ok bool
	for {
		if i >= len(buf) || buf[i] != '[' {
			return i, false
		}
		if x, i, ok = jsonParseNumber(buf, jsonSkipSpace(buf, i+1)); !ok {
			return i, false
		}
		if i = jsonSkipSpace(buf, i); i >= len(buf) || buf[i] != ',' {
			return i, false
		}
		if y, i, ok = jsonParseNumber(buf, jsonSkipSpace(buf, i+1)); !ok {
			return i, false
		}
		for i = jsonSkipSpace(buf, i); i < len(buf) && buf[i] == ','; i = jsonSkipSpace(buf, i) {
			if i, ok = jsonSkipNumber(buf, jsonSkipSpace(buf, i+1)); !ok {
				return i, false
			}
		}
		if i >= len(buf) || buf[i] != ']' {
			return i, false
		}
		pts = append(pts, orb.Point{x, y})
		if i = jsonSkipSpace(buf, i+1); i < len(buf) && buf[i] == ',' {
			i = jsonSkipSpace(buf, i+1)
			continue
		}
		if i < len(buf) && buf[i] == ']' {
			return i + 1, true
		}
		return i, false
	}
}

// jsonNext reads past the separator after an element of an array or
// object that closes with close: next is where the following element
// starts, or, with closed, where the array or object ends.
func jsonNext(buf []byte, i int, close byte) (next int, closed, ok bool) {
	i = jsonSkipSpace(buf, i)
	if i >= len(buf) {
		return i, false, false
	}
	switch buf[i] {
	case close:
		return i + 1, true, true
	case ',':
		return jsonSkipSpace(buf, i+1), false, true
	}
	return i, false, false
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// jsonParseNumber reads the JSON number at buf[i:] and gives the float64
// strconv.ParseFloat gives for it, as encoding/json does. ok is false if
// there is no number there or it does not fit a float64.
//
// A number of at most 19 digits is read as an integer m times 10^e. When
// m < 2^53 and |e| <= 22 both m and 10^e are exact float64s, so one
// multiplication or division, rounded once, gives the float64 nearest the
// number: the one strconv gives. Other numbers go to strconv.
func jsonParseNumber(buf []byte, i int) (f float64, end int, ok bool) {
	// The common case first: no exponent, and few enough digits.
	j := i
	if j < len(buf) && buf[j] == '-' {
		j++
	}
	from := j
	var m uint64
	for ; j < len(buf) && isJSONDigit(buf[j]); j++ {
		m = m*10 + uint64(buf[j]-'0')
	}
	digits, frac := j-from, 0
	if j < len(buf) && buf[j] == '.' {
		j++
		for ; j < len(buf) && isJSONDigit(buf[j]); j++ {
			m = m*10 + uint64(buf[j]-'0')
		}
		if frac = j - from - digits - 1; frac == 0 {
			return jsonParseNumberSlow(buf, i)
		}
	}
	if digits == 0 || digits > 1 && buf[from] == '0' || j < len(buf) && buf[j]|0x20 == 'e' ||
		digits+frac > 19 || m >= 1<<53 || frac > 22 {
		return jsonParseNumberSlow(buf, i)
	}
	f = float64(m) / exactPow10[frac]
	if buf[i] == '-' {
		f = -f
	}
	return f, j, true
}

// jsonParseNumberSlow is jsonParseNumber for any number.
func jsonParseNumberSlow(buf []byte, i int) (f float64, end int, ok bool) {
	start := i
	neg := i < len(buf) && buf[i] == '-'
	if neg {
		i++
	}
	var m uint64
	digits, exp := 0, 0
	switch {
	case i >= len(buf):
		return 0, i, false
	case buf[i] == '0':
		i++
		digits++
	case isJSONDigit(buf[i]):
		for ; i < len(buf) && isJSONDigit(buf[i]); i++ {
			if digits < 19 {
				m = m*10 + uint64(buf[i]-'0')
			}
			digits++
		}
	default:
		return 0, i, false
	}
	if i < len(buf) && buf[i] == '.' {
		i++
		from := i
		for ; i < len(buf) && isJSONDigit(buf[i]); i++ {
			if digits < 19 {
				m = m*10 + uint64(buf[i]-'0')
			}
			digits++
		}
		if i == from {
			return 0, i, false
		}
		exp = from - i
	}
	if i < len(buf) && buf[i]|0x20 == 'e' {
		i++
		negExp := i < len(buf) && buf[i] == '-'
		if i < len(buf) && (buf[i] == '-' || buf[i] == '+') {
			i++
		}
		from, e := i, 0
		for ; i < len(buf) && isJSONDigit(buf[i]); i++ {
			if e < 10000 {
				e = e*10 + int(buf[i]-'0')
			}
		}
		if i == from {
			return 0, i, false
		}
		if negExp {
			e = -e
		}
		exp += e
	}
	if digits <= 19 && m < 1<<53 && -22 <= exp && exp <= 22 {
		f = float64(m)
		if exp < 0 {
			f /= exactPow10[-exp]
		} else {
			f *= exactPow10[exp]
		}
		if neg {
			f = -f
		}
		return f, i, true
	}
	f, err := strconv.ParseFloat(string(buf[start:i]), 64)
	return f, i, err == nil
}

func isJSONDigit(c byte) bool { return c-'0' < 10 }

func isJSONSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// jsonSkipSpace gives the index of the first byte at or after i that is not
// JSON whitespace.
func jsonSkipSpace(buf []byte, i int) int {
	for i < len(buf) && isJSONSpace(buf[i]) {
		i++
	}
	return i
}

// jsonScanKey reads the string at buf[i:], a member name: its raw bytes between
// the quotes, the index after it, and whether it has escapes (then key is
// not the name).
func jsonScanKey(buf []byte, i int) (key []byte, end int, escaped, valid bool) {
	end, escaped, valid = jsonScanString(buf, i)
	if !valid {
		return nil, end, false, false
	}
	return buf[i+1 : end-1], end, escaped, true
}

// jsonScanString reads past the JSON string at buf[i:], checking it as
// encoding/json does: no control characters, only JSON's escapes, and any
// other bytes (invalid UTF-8 too).
func jsonScanString(buf []byte, i int) (end int, escaped, valid bool) {
	if i >= len(buf) || buf[i] != '"' {
		return i, false, false
	}
	for i++; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return i, false, false
		case c == '\\':
			escaped = true
			i++
			if i >= len(buf) {
				return i, false, false
			}
			switch buf[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(buf) {
					return i, false, false
				}
				for _, h := range buf[i+1 : i+5] {
					if !isJSONDigit(h) && !('a' <= h|0x20 && h|0x20 <= 'f') {
						return i, false, false
					}
				}
				i += 4
			default:
				return i, false, false
			}
		}
	}
	return i, false, false
}

// jsonSkipNumber reads past the JSON number at buf[i:].
func jsonSkipNumber(buf []byte, i int) (int, bool) {
	if i < len(buf) && buf[i] == '-' {
		i++
	}
	switch {
	case i >= len(buf):
		return i, false
	case buf[i] == '0':
		i++
	case isJSONDigit(buf[i]):
		for i < len(buf) && isJSONDigit(buf[i]) {
			i++
		}
	default:
		return i, false
	}
	ok := true
	if i < len(buf) && buf[i] == '.' {
		if i, ok = jsonSkipDigits(buf, i+1); !ok {
			return i, false
		}
	}
	if i < len(buf) && buf[i]|0x20 == 'e' {
		i++
		if i < len(buf) && (buf[i] == '-' || buf[i] == '+') {
			i++
		}
		i, ok = jsonSkipDigits(buf, i)
	}
	return i, ok
}

// jsonSkipDigits reads past a run of at least one digit.
func jsonSkipDigits(buf []byte, i int) (int, bool) {
	from := i
	for i < len(buf) && isJSONDigit(buf[i]) {
		i++
	}
	return i, i > from
}

// jsonSkipValue reads past the JSON value at buf[i:], checking it as
// encoding/json does, at a nesting of depth. valid is false for invalid
// JSON and for nesting deeper than fastMaxDepth.
func jsonSkipValue(buf []byte, i, depth int) (end int, valid bool) {
	if i >= len(buf) {
		return i, false
	}
	switch c := buf[i]; c {
	case '"':
		end, _, valid = jsonScanString(buf, i)
		return end, valid
	case '{', '[':
		if depth >= fastMaxDepth {
			return i, false
		}
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		i = jsonSkipSpace(buf, i+1)
		if i < len(buf) && buf[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i, _, valid = jsonScanString(buf, i); !valid {
					return i, false
				}
				if i = jsonSkipSpace(buf, i); i >= len(buf) || buf[i] != ':' {
					return i, false
				}
				i = jsonSkipSpace(buf, i+1)
			}
			if i, valid = jsonSkipValue(buf, i, depth+1); !valid {
				return i, false
			}
			if i = jsonSkipSpace(buf, i); i >= len(buf) {
				return i, false
			}
			switch buf[i] {
			case closing:
				return i + 1, true
			case ',':
				i = jsonSkipSpace(buf, i+1)
			default:
				return i, false
			}
		}
	case 't':
		return jsonSkipLiteral(buf, i, "true")
	case 'f':
		return jsonSkipLiteral(buf, i, "false")
	case 'n':
		return jsonSkipLiteral(buf, i, "null")
	}
	return jsonSkipNumber(buf, i)
}

func jsonSkipLiteral(buf []byte, i int, lit string) (int, bool) {
	if !bytes.HasPrefix(buf[i:], []byte(lit)) {
		return i, false
	}
	return i + len(lit), true
}
