package incidents

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridd/gridd/geo"
)

// Input is one incident as it arrives: the incident JSON of SPEC, one
// object or one NDJSON line; CSV columns and GeoJSON properties carry the
// same names. Nothing is checked until Validate.
type Input struct {
	Lon          *float64 `json:"lon"`
	Lat          *float64 `json:"lat"`
	ReportedAt   string   `json:"reported_at"`
	Category     string   `json:"category"`
	ExternalID   string   `json:"external_id,omitempty"`
	CRS          string   `json:"crs,omitempty"`
	Source       string   `json:"source,omitempty"`
	Description  string   `json:"description,omitempty"`
	Deadline     string   `json:"deadline,omitempty"`
	Status       string   `json:"status,omitempty"`
	FiledAt      string   `json:"filed_at,omitempty"`
	DispatchedAt string   `json:"dispatched_at,omitempty"`
	HandledAt    string   `json:"handled_at,omitempty"`
	ClosedAt     string   `json:"closed_at,omitempty"`
	// Reworks is, for imports of past cases, how many times the handling
	// was sent back (返工) before the step times given.
	Reworks *int `json:"reworks,omitempty"`
}

// Limits on input sizes.
const (
	// MaxLineBytes bounds one NDJSON line; a longer line is that line's
	// error and the stream goes on.
	MaxLineBytes = 1 << 20
	// MaxExternalIDBytes and MaxDescriptionBytes bound the free text fields.
	MaxExternalIDBytes  = 256
	MaxDescriptionBytes = 16 << 10
)

// FieldError is a problem with one field of an input.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// LineError places an error at a line of the input (a feature number for
// GeoJSON, counting from 1).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ParseJSON reads one incident object.
func ParseJSON(data []byte) (Input, error) {
	if in, ok := parseFast(data); ok {
		return in, nil
	}
	return parseJSONGeneral(data)
}

// parseJSONGeneral reads one incident object with encoding/json, for the
// forms parseFast leaves to it.
func parseJSONGeneral(data []byte) (Input, error) {
	var in Input
	if err := json.Unmarshal(data, &in); err != nil {
		return Input{}, jsonError(err)
	}
	return in, nil
}

// jsonError turns encoding/json's errors into ones that name the field.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
		}
		return fieldErr(te.Field, "want a %s, got a JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se.Error())
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "float64", "ptr":
		return "number"
	}
	return goKind
}

// ParseNDJSON reads incidents one per line and calls fn for each non-blank
// line with its number (from 1) and either the input or that line's error
// (a *LineError). It stops at the first error fn returns, and returns it.
func ParseNDJSON(r io.Reader, fn func(line int, in Input, err error) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br, &long)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", line, err)
		}
		eof := err != nil
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		switch {
		case tooLong:
			if ferr := fn(line, Input{}, &LineError{Line: line, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}); ferr != nil {
				return ferr
			}
		case len(bytes.TrimSpace(b)) > 0:
			in, perr := ParseJSON(b)
			if perr != nil {
				perr = &LineError{Line: line, Err: perr}
			}
			if ferr := fn(line, in, perr); ferr != nil {
				return ferr
			}
		}
		if eof {
			return nil
		}
	}
}

// readLine returns the next line without its end, reusing *long for lines
// longer than the reader's buffer; past MaxLineBytes the rest of the line is
// skipped and tooLong set. err is io.EOF on the last line.
func readLine(br *bufio.Reader, long *[]byte) (line []byte, tooLong bool, err error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		*long = append((*long)[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = br.ReadSlice('\n')
			if !tooLong {
				*long = append(*long, b...)
				if len(*long) > MaxLineBytes+2 {
					tooLong = true
					*long = (*long)[:0]
				}
			}
		}
		b = *long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if !tooLong && len(b) > MaxLineBytes {
		tooLong = true
	}
	return b, tooLong, err
}

// csvColumns maps the column names of SPEC to the Input fields they fill.
func csvColumns() map[string]func(in *Input, v string) error {
	num := func(field string, dst func(*Input) **float64) func(*Input, string) error {
		return func(in *Input, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fieldErr(field, "%q is not a number", v)
			}
			*dst(in) = &f
			return nil
		}
	}
	str := func(dst func(*Input) *string) func(*Input, string) error {
		return func(in *Input, v string) error { *dst(in) = v; return nil }
	}
	return map[string]func(*Input, string) error{
		"lon":           num("lon", func(in *Input) **float64 { return &in.Lon }),
		"lat":           num("lat", func(in *Input) **float64 { return &in.Lat }),
		"reported_at":   str(func(in *Input) *string { return &in.ReportedAt }),
		"category":      str(func(in *Input) *string { return &in.Category }),
		"external_id":   str(func(in *Input) *string { return &in.ExternalID }),
		"crs":           str(func(in *Input) *string { return &in.CRS }),
		"source":        str(func(in *Input) *string { return &in.Source }),
		"description":   str(func(in *Input) *string { return &in.Description }),
		"deadline":      str(func(in *Input) *string { return &in.Deadline }),
		"status":        str(func(in *Input) *string { return &in.Status }),
		"filed_at":      str(func(in *Input) *string { return &in.FiledAt }),
		"dispatched_at": str(func(in *Input) *string { return &in.DispatchedAt }),
		"handled_at":    str(func(in *Input) *string { return &in.HandledAt }),
		"closed_at":     str(func(in *Input) *string { return &in.ClosedAt }),
		"reworks": func(in *Input, v string) error {
			if strings.TrimSpace(v) == "" {
				return nil
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fieldErr("reworks", "%q is not a whole number", v)
			}
			in.Reworks = &n
			return nil
		},
	}
}

// ParseCSV reads incidents from CSV whose header row names the columns as
// the JSON fields are named (other columns are ignored). fn is called as in
// ParseNDJSON, with the line the record starts on. A header without lon,
// lat, reported_at and category is an error of the whole input.
func ParseCSV(r io.Reader, fn func(line int, in Input, err error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("csv: empty input, want a header row")
		}
		return fmt.Errorf("csv header: %w", err)
	}
	setters := csvColumns()
	cols := make([]func(*Input, string) error, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if seen[name] {
			return fmt.Errorf("csv header: column %q twice", name)
		}
		seen[name] = true
		cols[i] = setters[name]
	}
	for _, req := range []string{"lon", "lat", "reported_at", "category"} {
		if !seen[req] {
			return fmt.Errorf("csv header: no %q column (have %s)", req, strings.Join(header, ","))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if ferr := fn(pe.StartLine, Input{}, &LineError{Line: pe.StartLine, Err: pe.Err}); ferr != nil {
					return ferr
				}
				continue
			}
			return fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		var (
			in   Input
			rerr error
		)
		if len(rec) != len(header) {
			rerr = fmt.Errorf("%d fields, the header has %d", len(rec), len(header))
		}
		for i := 0; rerr == nil && i < len(rec); i++ {
			if cols[i] == nil || rec[i] == "" {
				continue
			}
			if !utf8.ValidString(rec[i]) {
				rerr = fieldErr(strings.TrimSpace(header[i]), "not valid UTF-8")
				break
			}
			rerr = cols[i](&in, rec[i])
		}
		if rerr != nil {
			rerr = &LineError{Line: line, Err: rerr}
		}
		if ferr := fn(line, in, rerr); ferr != nil {
			return ferr
		}
	}
}

// ParseGeoJSON reads a FeatureCollection of Point features whose properties
// are the incident fields; the point gives lon and lat. fn is called as in
// ParseNDJSON with the feature's number (from 1) in place of a line.
// Malformed JSON outside a feature ends the parse with an error.
func ParseGeoJSON(r io.Reader, fn func(feature int, in Input, err error) error) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("geojson: %w", err)
	}
	sawFeatures := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("geojson: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			var typ string
			if err := dec.Decode(&typ); err != nil {
				return fmt.Errorf("geojson: type: %w", err)
			}
			if typ != "FeatureCollection" {
				return fmt.Errorf("geojson: type %q, want FeatureCollection", typ)
			}
		case "features":
			sawFeatures = true
			if err := expectDelim(dec, '['); err != nil {
				return fmt.Errorf("geojson: features: %w", err)
			}
			for n := 1; dec.More(); n++ {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return fmt.Errorf("geojson: feature %d: %w", n, err)
				}
				in, ferr := parseFeature(raw)
				if ferr != nil {
					ferr = &LineError{Line: n, Err: ferr}
				}
				if err := fn(n, in, ferr); err != nil {
					return err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return fmt.Errorf("geojson: features: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("geojson: %s: %w", key, err)
			}
		}
	}
	if !sawFeatures {
		return errors.New("geojson: no features member")
	}
	return nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %q, got %v", string(d), tok)
	}
	return nil
}

func parseFeature(raw []byte) (Input, error) {
	var f struct {
		Type     string `json:"type"`
		Geometry *struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return Input{}, fmt.Errorf("feature: %w", jsonError(err))
	}
	if f.Type != "Feature" {
		return Input{}, fmt.Errorf("type %q, want Feature", f.Type)
	}
	var in Input
	if len(f.Properties) > 0 && string(f.Properties) != "null" {
		if err := json.Unmarshal(f.Properties, &in); err != nil {
			return Input{}, fmt.Errorf("properties: %w", jsonError(err))
		}
	}
	if f.Geometry == nil {
		return Input{}, fieldErr("geometry", "missing, want a Point")
	}
	if f.Geometry.Type != "Point" {
		return Input{}, fieldErr("geometry", "a %s, want a Point", f.Geometry.Type)
	}
	var coords []float64
	if err := json.Unmarshal(f.Geometry.Coordinates, &coords); err != nil || len(coords) < 2 {
		return Input{}, fieldErr("geometry", "a Point needs [lon, lat] coordinates")
	}
	lon, lat := coords[0], coords[1]
	in.Lon, in.Lat = &lon, &lat
	return in, nil
}

// Format is an incident input format.
type Format string

const (
	FormatNDJSON  Format = "ndjson"
	FormatCSV     Format = "csv"
	FormatGeoJSON Format = "geojson"
)

// FormatOf tells the format from a file name's extension.
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ndjson", ".jsonl", ".json":
		return FormatNDJSON, nil
	case ".csv":
		return FormatCSV, nil
	case ".geojson":
		return FormatGeoJSON, nil
	}
	return "", fmt.Errorf("%s: unknown incident file type (want .ndjson, .csv or .geojson)", name)
}

// Parse reads r in format f; see ParseNDJSON for fn.
func Parse(r io.Reader, f Format, fn func(line int, in Input, err error) error) error {
	switch f {
	case FormatNDJSON:
		return ParseNDJSON(r, fn)
	case FormatCSV:
		return ParseCSV(r, fn)
	case FormatGeoJSON:
		return ParseGeoJSON(r, fn)
	}
	return fmt.Errorf("unknown incident format %q", f)
}

// ImportedBy is the author the history gives the steps of a past case that
// arrived with its status.
const ImportedBy = "import"

// Validate checks an input and turns it into an incident in WGS84, not yet
// stored (no id) nor geocoded (no grid). The category is resolved to its
// catalogue code; a missing deadline is reported_at plus the category's
// time limit; a past case's step times become its history. Errors are
// *FieldError naming the field.
func (in Input) Validate(cat *Catalogue) (*Incident, error) {
	crs, err := geo.ParseCRS(in.CRS)
	if err != nil {
		return nil, fieldErr("crs", "%v", err)
	}
	lon, err := coordinate("lon", in.Lon, 180)
	if err != nil {
		return nil, err
	}
	lat, err := coordinate("lat", in.Lat, 90)
	if err != nil {
		return nil, err
	}
	lon, lat = geo.ToWGS84(crs, lon, lat)

	if in.ReportedAt == "" {
		return nil, fieldErr("reported_at", "missing")
	}
	reported, err := parseInputTime("reported_at", in.ReportedAt)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Category) == "" {
		return nil, fieldErr("category", "missing")
	}
	c, ok := cat.Lookup(in.Category)
	if !ok {
		return nil, fieldErr("category", "unknown %q (want a catalogue code such as E0102 or 大类/小类 names)", in.Category)
	}
	var source Source
	if in.Source != "" {
		if sourceCode(Source(in.Source)) == 0 {
			return nil, fieldErr("source", "unknown %q (want patrol, hotline, app, video or open311)", in.Source)
		}
		source = Source(in.Source)
	}
	ext := strings.TrimSpace(in.ExternalID)
	if len(ext) > MaxExternalIDBytes {
		return nil, fieldErr("external_id", "longer than %d bytes", MaxExternalIDBytes)
	}
	if len(in.Description) > MaxDescriptionBytes {
		return nil, fieldErr("description", "longer than %d bytes", MaxDescriptionBytes)
	}
	inc := &Incident{
		ExternalID: ext, Category: c.Code, Source: source, Description: in.Description,
		ReportedAt: reported, Lon: lon, Lat: lat, Status: StatusReported,
	}
	if in.Deadline != "" {
		d, err := parseInputTime("deadline", in.Deadline)
		if err != nil {
			return nil, err
		}
		if d.Before(reported) {
			return nil, fieldErr("deadline", "%s is before reported_at", in.Deadline)
		}
		inc.Deadline = &d
	} else if c.DeadlineHours > 0 && c.DeadlineHours < 10*365*24 {
		d := reported.Add(time.Duration(c.DeadlineHours) * time.Hour)
		inc.Deadline = &d
	}
	if err := in.applySteps(inc); err != nil {
		return nil, err
	}
	if in.Reworks != nil {
		n := *in.Reworks
		switch {
		case n < 0 || n > maxReworks:
			return nil, fieldErr("reworks", "%d is outside 0..%d", n, maxReworks)
		case n > 0 && inc.DispatchedAt == nil:
			// Rework sends a handled case back to dispatch: a case never
			// dispatched cannot have been reworked.
			return nil, fieldErr("reworks", "%d reworks but status %s was never dispatched", n, inc.Status)
		}
		inc.Reworks = n
	}
	return inc, nil
}

// maxReworks bounds the reworks an imported case may claim.
const maxReworks = 1000

func coordinate(field string, v *float64, limit float64) (float64, error) {
	switch {
	case v == nil:
		return 0, fieldErr(field, "missing")
	case math.IsNaN(*v) || math.IsInf(*v, 0):
		return 0, fieldErr(field, "%v is not a coordinate", *v)
	case *v < -limit || *v > limit:
		return 0, fieldErr(field, "%v out of range [-%v, %v]", *v, limit, limit)
	}
	return *v, nil
}

// Input times must fit the columns analytics read (uint32 Unix seconds,
// good to 2106), with room left for a default deadline after them.
const (
	minUnix = 1
	maxUnix = 4102444800 // 2100-01-01T00:00:00Z
)

func parseInputTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fieldErr(field, "%q is not an RFC 3339 time (like 2024-03-01T08:30:00+08:00)", s)
	}
	if u := t.Unix(); u < minUnix || u > maxUnix {
		return time.Time{}, fieldErr(field, "%s outside 1970…2100", s)
	}
	return t.UTC(), nil
}

// applySteps sets the status and step times of a past case, checking that
// the times the status needs are there, none beyond it, and in order.
func (in Input) applySteps(inc *Incident) error {
	status := StatusReported
	if in.Status != "" {
		st, err := ParseStatus(in.Status)
		if err != nil {
			return fieldErr("status", "%v", err)
		}
		status = st
	}
	// The number of steps (filed, dispatched, handled, closed, in that
	// order) a case has passed to reach its status.
	chain := 0
	switch status {
	case StatusFiled:
		chain = 1
	case StatusDispatched:
		chain = 2
	case StatusHandled:
		chain = 3
	case StatusClosed:
		chain = 4
	}
	steps := []struct {
		status Status
		field  string
		value  string
		dst    **time.Time
	}{
		{StatusFiled, "filed_at", in.FiledAt, &inc.FiledAt},
		{StatusDispatched, "dispatched_at", in.DispatchedAt, &inc.DispatchedAt},
		{StatusHandled, "handled_at", in.HandledAt, &inc.HandledAt},
		{StatusClosed, "closed_at", in.ClosedAt, &inc.ClosedAt},
	}
	prev, prevField := inc.ReportedAt, "reported_at"
	from := StatusReported
	for k, s := range steps {
		needed := k < chain
		if !needed {
			if s.value != "" {
				return fieldErr(s.field, "given but status is %s", status)
			}
			continue
		}
		if s.value == "" {
			return fieldErr(s.field, "missing: status %s needs it", status)
		}
		t, err := parseInputTime(s.field, s.value)
		if err != nil {
			return err
		}
		if t.Before(prev) {
			return fieldErr(s.field, "%s is before %s", s.value, prevField)
		}
		*s.dst = &t
		inc.History = append(inc.History, Transition{At: t, By: ImportedBy, From: from, To: s.status})
		prev, prevField, from = t, s.field, s.status
	}
	if status == StatusRejected {
		inc.History = append(inc.History, Transition{At: inc.ReportedAt, By: ImportedBy, From: StatusReported, To: StatusRejected})
	}
	inc.Status = status
	return nil
}
