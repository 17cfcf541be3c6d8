package incidents

import (
	"strconv"
	"unicode/utf8"
)

// parseFast reads the common form of an incident object without
// reflection: a flat object whose keys are Input's JSON names exactly, each
// at most once, whose text fields are strings without escapes or control
// characters, and whose lon, lat and reworks are numbers. For such input it
// returns what encoding/json gives. Anything else (another key, a repeated
// key, an escape, null, a value of another type, invalid UTF-8, malformed
// JSON) makes ok false, and the caller reads the object the general way,
// which also words any error.
//
// The strings of the result share one copy of data.
func parseFast(data []byte) (in Input, ok bool) {
	p := fastParser{data: data}
	p.space()
	if !p.take('{') {
		return Input{}, false
	}
	var (
		seen uint32
		nums *[2]float64 // lon, lat
		text string      // the one copy of data the strings point into
	)
	str := func(lo, hi int) string {
		if text == "" {
			text = string(data)
		}
		return text[lo:hi]
	}
	p.space()
	if p.take('}') {
		return in, p.end()
	}
	for {
		p.space()
		klo, khi, ok := p.str()
		if !ok {
			return Input{}, false
		}
		f := fastField(data[klo:khi])
		if f < 0 || seen&(1<<f) != 0 {
			return Input{}, false
		}
		seen |= 1 << f
		p.space()
		if !p.take(':') {
			return Input{}, false
		}
		p.space()
		switch f {
		case fieldLon, fieldLat:
			v, ok := p.float()
			if !ok {
				return Input{}, false
			}
			if nums == nil {
				nums = new([2]float64)
			}
			if f == fieldLon {
				nums[0] = v
				in.Lon = &nums[0]
			} else {
				nums[1] = v
				in.Lat = &nums[1]
			}
		case fieldReworks:
			n, ok := p.int()
			if !ok {
				return Input{}, false
			}
			in.Reworks = &n
		default:
			lo, hi, ok := p.str()
			if !ok {
				return Input{}, false
			}
			*in.text(f) = str(lo, hi)
		}
		p.space()
		if p.take('}') {
			break
		}
		if !p.take(',') {
			return Input{}, false
		}
	}
	if !p.end() {
		return Input{}, false
	}
	return in, true
}

// The fields parseFast knows, numbered for its bit set of keys seen.
const (
	fieldLon = iota
	fieldLat
	fieldReworks
	fieldReportedAt
	fieldCategory
	fieldExternalID
	fieldCRS
	fieldSource
	fieldDescription
	fieldDeadline
	fieldStatus
	fieldFiledAt
	fieldDispatchedAt
	fieldHandledAt
	fieldClosedAt
)

// fastField numbers a key as Input's JSON tags name it, -1 for any other.
func fastField(key []byte) int {
	switch string(key) {
	case "lon":
		return fieldLon
	case "lat":
		return fieldLat
	case "reworks":
		return fieldReworks
	case "reported_at":
		return fieldReportedAt
	case "category":
		return fieldCategory
	case "external_id":
		return fieldExternalID
	case "crs":
		return fieldCRS
	case "source":
		return fieldSource
	case "description":
		return fieldDescription
	case "deadline":
		return fieldDeadline
	case "status":
		return fieldStatus
	case "filed_at":
		return fieldFiledAt
	case "dispatched_at":
		return fieldDispatchedAt
	case "handled_at":
		return fieldHandledAt
	case "closed_at":
		return fieldClosedAt
	}
	return -1
}

// text is the string field numbered f.
func (in *Input) text(f int) *string {
	switch f {
	case fieldReportedAt:
		return &in.ReportedAt
	case fieldCategory:
		return &in.Category
	case fieldExternalID:
		return &in.ExternalID
	case fieldCRS:
		return &in.CRS
	case fieldSource:
		return &in.Source
	case fieldDescription:
		return &in.Description
	case fieldDeadline:
		return &in.Deadline
	case fieldStatus:
		return &in.Status
	case fieldFiledAt:
		return &in.FiledAt
	case fieldDispatchedAt:
		return &in.DispatchedAt
	case fieldHandledAt:
		return &in.HandledAt
	case fieldClosedAt:
		return &in.ClosedAt
	}
	panic("incidents: no text field " + strconv.Itoa(f))
}

type fastParser struct {
	data []byte
	i    int
}

// space skips JSON white space.
func (p *fastParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) take(c byte) bool {
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space follows.
func (p *fastParser) end() bool {
	p.space()
	return p.i == len(p.data)
}

// str reads a string without escapes and returns the bounds of its
// contents in data; ok is false for anything else, including control
// characters and invalid UTF-8, which encoding/json would refuse or
// rewrite.
func (p *fastParser) str() (lo, hi int, ok bool) {
	if !p.take('"') {
		return 0, 0, false
	}
	lo = p.i
	ascii := true
	for ; p.i < len(p.data); p.i++ {
		c := p.data[p.i]
		switch {
		case c == '"':
			hi = p.i
			p.i++
			if !ascii && !utf8.Valid(p.data[lo:hi]) {
				return 0, 0, false
			}
			return lo, hi, true
		case c == '\\' || c < 0x20:
			return 0, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, 0, false
}

// number reads a JSON number and returns its text; ok is false where the
// text is not one.
func (p *fastParser) number() (s []byte, ok bool) {
	d := p.data
	lo := p.i
	i := p.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.i = i
	return d[lo:i], true
}

// float reads a number as encoding/json does for a float64.
func (p *fastParser) float() (float64, bool) {
	s, ok := p.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(s), 64)
	return v, err == nil
}

// int reads a number as encoding/json does for an int: a whole number in
// range, or not at all.
func (p *fastParser) int() (int, bool) {
	s, ok := p.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, strconv.IntSize)
	return int(n), err == nil
}
