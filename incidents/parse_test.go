package incidents

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gridd/gridd/geo"
)

type parsed struct {
	line int
	in   Input
	err  error
}

func collect(t *testing.T, parse func(func(int, Input, error) error) error) []parsed {
	t.Helper()
	var out []parsed
	if err := parse(func(line int, in Input, err error) error {
		out = append(out, parsed{line, in, err})
		return nil
	}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return out
}

func f64(v float64) *float64 { return &v }

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, in Input)
	}{
		{name: "all fields", in: `{"lon":116.397,"lat":39.909,"reported_at":"2024-03-01T08:00:00+08:00","category":"E0102",
"external_id":"12345-x","crs":"gcj02","source":"hotline","description":"垃圾","deadline":"2024-03-02T08:00:00+08:00",
"status":"filed","filed_at":"2024-03-01T09:00:00+08:00","extra":"ignored"}`, check: func(t *testing.T, in Input) {
			if *in.Lon != 116.397 || *in.Lat != 39.909 || in.ExternalID != "12345-x" || in.CRS != "gcj02" || in.Status != "filed" || in.Description != "垃圾" {
				t.Fatalf("%+v", in)
			}
		}},
		{name: "missing coordinates stay nil", in: `{"category":"E0102"}`, check: func(t *testing.T, in Input) {
			if in.Lon != nil || in.Lat != nil {
				t.Fatal("lon/lat set")
			}
		}},
		{name: "string for a number", in: `{"lon":"116.3","lat":39.9}`, wantErr: "lon: want a number"},
		{name: "number for a string", in: `{"lon":116.3,"external_id":12}`, wantErr: "external_id: want a string"},
		{name: "broken JSON", in: `{"lon":116.3,`, wantErr: "invalid JSON"},
		{name: "NaN literal", in: `{"lon":NaN}`, wantErr: "invalid JSON"},
		{name: "array", in: `[1,2]`, wantErr: "want a JSON object"},
		{name: "trailing data", in: `{"lon":1} {"lon":2}`, wantErr: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ParseJSON([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, in)
		})
	}
}

func validInput() Input {
	return Input{Lon: f64(116.397), Lat: f64(39.909), ReportedAt: "2024-03-01T08:00:00+08:00", Category: "E0102"}
}

func TestValidate(t *testing.T) {
	cat := Builtin()
	garbage, ok := cat.Lookup("E0102")
	if !ok {
		t.Fatal("built-in catalogue has no E0102")
	}
	reported := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) // 08:00 +08:00
	tests := []struct {
		name      string
		edit      func(in *Input)
		wantField string // "" = valid
		check     func(t *testing.T, inc *Incident)
	}{
		{name: "minimal", edit: func(*Input) {}, check: func(t *testing.T, inc *Incident) {
			if !inc.ReportedAt.Equal(reported) || inc.ReportedAt.Location() != time.UTC {
				t.Fatalf("reported_at %v, want %v in UTC", inc.ReportedAt, reported)
			}
			if inc.Status != StatusReported || inc.Category != "E0102" || inc.Lon != 116.397 || inc.Lat != 39.909 || len(inc.History) != 0 {
				t.Fatalf("%+v", inc)
			}
			want := reported.Add(time.Duration(garbage.DeadlineHours) * time.Hour)
			if inc.Deadline == nil || !inc.Deadline.Equal(want) {
				t.Fatalf("default deadline %v, want reported_at + %dh", inc.Deadline, garbage.DeadlineHours)
			}
		}},
		{name: "category by names", edit: func(in *Input) { in.Category = "市容环境/暴露垃圾" }, check: func(t *testing.T, inc *Incident) {
			if inc.Category != "E0102" {
				t.Fatalf("category %q, want E0102", inc.Category)
			}
		}},
		{name: "gcj02 converted", edit: func(in *Input) { in.CRS = "gcj02" }, check: func(t *testing.T, inc *Incident) {
			wlon, wlat := geo.ToWGS84(geo.GCJ02, 116.397, 39.909)
			if inc.Lon != wlon || inc.Lat != wlat {
				t.Fatalf("got %v,%v want %v,%v", inc.Lon, inc.Lat, wlon, wlat)
			}
			// In Beijing GCJ-02 is offset by a few hundred metres.
			if d := math.Hypot((116.397-inc.Lon)*85000, (39.909-inc.Lat)*111000); d < 100 || d > 1000 {
				t.Fatalf("offset %.0f m", d)
			}
		}},
		{name: "explicit deadline and text", edit: func(in *Input) {
			in.Deadline, in.ExternalID, in.Source, in.Description = "2024-03-05T00:00:00Z", "  ext-1 ", "app", "d"
		}, check: func(t *testing.T, inc *Incident) {
			if !inc.Deadline.Equal(time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)) || inc.ExternalID != "ext-1" || inc.Source != SourceApp {
				t.Fatalf("%+v", inc)
			}
		}},
		{name: "closed past case", edit: func(in *Input) {
			in.Status, in.FiledAt, in.DispatchedAt = "closed", "2024-03-01T01:00:00Z", "2024-03-01T02:00:00Z"
			in.HandledAt, in.ClosedAt = "2024-03-01T03:00:00Z", "2024-03-01T03:00:00Z"
		}, check: func(t *testing.T, inc *Incident) {
			if inc.Status != StatusClosed || inc.ClosedAt == nil || len(inc.History) != 4 {
				t.Fatalf("%+v", inc)
			}
			h := inc.History[3]
			if h.From != StatusHandled || h.To != StatusClosed || h.By != ImportedBy || !h.At.Equal(*inc.ClosedAt) {
				t.Fatalf("last history entry %+v", h)
			}
		}},
		{name: "rejected", edit: func(in *Input) { in.Status = "rejected" }, check: func(t *testing.T, inc *Incident) {
			if inc.Status != StatusRejected || len(inc.History) != 1 || inc.History[0].To != StatusRejected {
				t.Fatalf("%+v", inc)
			}
		}},
		{name: "missing lon", edit: func(in *Input) { in.Lon = nil }, wantField: "lon"},
		{name: "missing lat", edit: func(in *Input) { in.Lat = nil }, wantField: "lat"},
		{name: "NaN lon", edit: func(in *Input) { in.Lon = f64(math.NaN()) }, wantField: "lon"},
		{name: "infinite lat", edit: func(in *Input) { in.Lat = f64(math.Inf(1)) }, wantField: "lat"},
		{name: "lon out of range", edit: func(in *Input) { in.Lon = f64(180.0001) }, wantField: "lon"},
		{name: "lat out of range", edit: func(in *Input) { in.Lat = f64(-90.5) }, wantField: "lat"},
		{name: "missing reported_at", edit: func(in *Input) { in.ReportedAt = "" }, wantField: "reported_at"},
		{name: "reported_at not RFC 3339", edit: func(in *Input) { in.ReportedAt = "2024-03-01 08:00:00" }, wantField: "reported_at"},
		{name: "reported_at before 1970", edit: func(in *Input) { in.ReportedAt = "1960-01-01T00:00:00Z" }, wantField: "reported_at"},
		{name: "missing category", edit: func(in *Input) { in.Category = " " }, wantField: "category"},
		{name: "unknown category", edit: func(in *Input) { in.Category = "Z9999" }, wantField: "category"},
		{name: "unknown crs", edit: func(in *Input) { in.CRS = "epsg:3857" }, wantField: "crs"},
		{name: "unknown source", edit: func(in *Input) { in.Source = "fax" }, wantField: "source"},
		{name: "deadline before report", edit: func(in *Input) { in.Deadline = "2024-02-01T00:00:00Z" }, wantField: "deadline"},
		{name: "bad deadline", edit: func(in *Input) { in.Deadline = "tomorrow" }, wantField: "deadline"},
		{name: "unknown status", edit: func(in *Input) { in.Status = "archived" }, wantField: "status"},
		{name: "closed without closed_at", edit: func(in *Input) {
			in.Status, in.FiledAt, in.DispatchedAt, in.HandledAt = "closed", "2024-03-01T01:00:00Z", "2024-03-01T02:00:00Z", "2024-03-01T03:00:00Z"
		}, wantField: "closed_at"},
		{name: "filed without filed_at", edit: func(in *Input) { in.Status = "filed" }, wantField: "filed_at"},
		{name: "step time beyond status", edit: func(in *Input) {
			in.Status, in.FiledAt, in.ClosedAt = "filed", "2024-03-01T01:00:00Z", "2024-03-01T05:00:00Z"
		}, wantField: "closed_at"},
		{name: "rejected with a step time", edit: func(in *Input) { in.Status, in.FiledAt = "rejected", "2024-03-01T01:00:00Z" }, wantField: "filed_at"},
		{name: "step before report", edit: func(in *Input) { in.Status, in.FiledAt = "filed", "2024-02-29T23:00:00Z" }, wantField: "filed_at"},
		{name: "steps out of order", edit: func(in *Input) {
			in.Status, in.FiledAt, in.DispatchedAt = "dispatched", "2024-03-01T05:00:00Z", "2024-03-01T04:00:00Z"
		}, wantField: "dispatched_at"},
		{name: "external id too long", edit: func(in *Input) { in.ExternalID = strings.Repeat("x", MaxExternalIDBytes+1) }, wantField: "external_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.edit(&in)
			inc, err := in.Validate(cat)
			if tt.wantField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("error %v, want one about %s", err, tt.wantField)
				}
				if !strings.HasPrefix(err.Error(), tt.wantField+": ") {
					t.Fatalf("message %q does not start with the field", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, inc)
		})
	}
}

func TestParseNDJSON(t *testing.T) {
	long := `{"description":"` + strings.Repeat("x", MaxLineBytes) + `"}`
	input := "\ufeff" + `{"lon":1,"lat":2,"reported_at":"2024-03-01T00:00:00Z","category":"E0102"}` + "\r\n" +
		"\n" +
		`{"lon":1,"lat":` + "\n" +
		"   \n" +
		long + "\n" +
		`{"lon":3,"lat":4}` // no final newline
	got := collect(t, func(fn func(int, Input, error) error) error { return ParseNDJSON(strings.NewReader(input), fn) })
	tests := []struct {
		name    string
		line    int
		wantErr string
		lon     float64
	}{
		{name: "first line after BOM, CRLF", line: 1, lon: 1},
		{name: "broken line", line: 3, wantErr: "line 3: invalid JSON"},
		{name: "too long", line: 5, wantErr: "line 5: line longer than"},
		{name: "last line without newline", line: 6, lon: 3},
	}
	if len(got) != len(tests) {
		t.Fatalf("got %d callbacks, want %d: %+v", len(got), len(tests), got)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := got[i]
			if g.line != tt.line {
				t.Fatalf("line %d, want %d", g.line, tt.line)
			}
			if tt.wantErr != "" {
				var le *LineError
				if g.err == nil || !strings.Contains(g.err.Error(), tt.wantErr) || !errors.As(g.err, &le) || le.Line != tt.line {
					t.Fatalf("error %v, want %q", g.err, tt.wantErr)
				}
				return
			}
			if g.err != nil || g.in.Lon == nil || *g.in.Lon != tt.lon {
				t.Fatalf("got %+v, %v", g.in, g.err)
			}
		})
	}
}

func TestParseNDJSONStops(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := ParseNDJSON(strings.NewReader("{}\n{}\n{}\n"), func(int, Input, error) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

func TestParseCSV(t *testing.T) {
	input := "\ufefflon,lat,reported_at,category,description,other\n" +
		"116.39,39.90,2024-03-01T00:00:00Z,E0102,\"multi\nline, with comma\",x\n" +
		"NaN,39.9,2024-03-01T00:00:00Z,E0102,,\n" +
		"abc,39.9,2024-03-01T00:00:00Z,E0102,,\n" +
		"116.39,39.90,2024-03-01T00:00:00Z\n" +
		"\n" +
		"116.5,,2024-03-01T00:00:00Z,市容环境/暴露垃圾,,\n"
	got := collect(t, func(fn func(int, Input, error) error) error { return ParseCSV(strings.NewReader(input), fn) })
	tests := []struct {
		name      string
		line      int
		wantErr   string
		wantField string // Validate's complaint
	}{
		{name: "quoted field over two lines", line: 2},
		{name: "NaN parses, Validate refuses", line: 4, wantField: "lon"},
		{name: "not a number", line: 5, wantErr: `line 5: lon: "abc" is not a number`},
		{name: "short record", line: 6, wantErr: "line 6: 3 fields, the header has 6"},
		{name: "empty cell is missing", line: 8, wantField: "lat"},
	}
	if len(got) != len(tests) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(tests), got)
	}
	cat := Builtin()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := got[i]
			if g.line != tt.line {
				t.Fatalf("line %d, want %d", g.line, tt.line)
			}
			if tt.wantErr != "" {
				if g.err == nil || g.err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", g.err, tt.wantErr)
				}
				return
			}
			if g.err != nil {
				t.Fatal(g.err)
			}
			inc, err := g.in.Validate(cat)
			if tt.wantField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("validate: %v, want an error about %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inc.Description != "multi\nline, with comma" {
				t.Fatalf("description %q", inc.Description)
			}
		})
	}
}

func TestParseCSVHeader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "empty", input: "", wantErr: "empty input"},
		{name: "missing category", input: "lon,lat,reported_at\n1,2,x\n", wantErr: `no "category" column`},
		{name: "duplicate column", input: "lon,lat,lon,reported_at,category\n", wantErr: `column "lon" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseCSV(strings.NewReader(tt.input), func(int, Input, error) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseGeoJSON(t *testing.T) {
	input := `{"name":"x","features":[
  {"type":"Feature","geometry":{"type":"Point","coordinates":[116.39,39.9]},"properties":{"reported_at":"2024-03-01T00:00:00Z","category":"E0102","crs":"bd09"}},
  {"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{}},
  {"type":"Feature","geometry":null,"properties":{"lon":1,"lat":2}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"category":7}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[116.4,39.8,50]},"properties":null}
],"type":"FeatureCollection","bbox":[0,0,1,1]}`
	got := collect(t, func(fn func(int, Input, error) error) error { return ParseGeoJSON(strings.NewReader(input), fn) })
	tests := []struct {
		name    string
		wantErr string
		lon     float64
	}{
		{name: "point with properties", lon: 116.39},
		{name: "not a point", wantErr: "line 2: geometry: a LineString, want a Point"},
		{name: "no geometry", wantErr: "line 3: geometry: missing"},
		{name: "wrong property type", wantErr: "line 4: properties: category: want a string"},
		{name: "3D point, null properties", lon: 116.4},
	}
	if len(got) != len(tests) {
		t.Fatalf("got %d features, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := got[i]
			if g.line != i+1 {
				t.Fatalf("feature number %d, want %d", g.line, i+1)
			}
			if tt.wantErr != "" {
				if g.err == nil || !strings.HasPrefix(g.err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", g.err, tt.wantErr)
				}
				return
			}
			if g.err != nil || *g.in.Lon != tt.lon {
				t.Fatalf("got %+v %v", g.in, g.err)
			}
		})
	}
	if got[0].in.CRS != "bd09" || got[0].in.Category != "E0102" {
		t.Fatalf("properties not read: %+v", got[0].in)
	}
}

func TestParseGeoJSONDocument(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "not an object", input: `[]`, wantErr: `want "{"`},
		{name: "wrong type", input: `{"type":"Feature","features":[]}`, wantErr: `type "Feature"`},
		{name: "no features", input: `{"type":"FeatureCollection"}`, wantErr: "no features"},
		{name: "truncated", input: `{"type":"FeatureCollection","features":[{"type":"Feature"`, wantErr: "feature 1"},
		{name: "empty collection", input: `{"type":"FeatureCollection","features":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseGeoJSON(strings.NewReader(tt.input), func(int, Input, error) error { return nil })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		name string
		file string
		want Format
	}{
		{name: "ndjson", file: "a/b.ndjson", want: FormatNDJSON},
		{name: "csv upper case", file: "X.CSV", want: FormatCSV},
		{name: "geojson", file: "x.geojson", want: FormatGeoJSON},
		{name: "unknown", file: "x.xlsx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FormatOf(tt.file)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Fatalf("FormatOf(%q) = %q, %v", tt.file, got, err)
			}
		})
	}
}

func benchLines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"lon":%.6f,"lat":%.6f,"reported_at":"2024-03-%02dT%02d:%02d:00+08:00","category":"E0102","external_id":"hl-%d","source":"hotline","description":"暴露垃圾 near gate %d"}`+"\n",
			116.3+float64(i%1000)*1e-4, 39.9+float64(i/1000)*1e-4, 1+i%28, i%24, i%60, i, i)
	}
	return b.String()
}

func BenchmarkParseValidateNDJSON(b *testing.B) {
	const n = 10000
	data := benchLines(n)
	cat := Builtin()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := ParseNDJSON(strings.NewReader(data), func(line int, in Input, err error) error {
			if err != nil {
				return err
			}
			_, err = in.Validate(cat)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
}

func TestValidateReworks(t *testing.T) {
	cat := Builtin()
	base := `{"lon":116.4,"lat":39.9,"reported_at":"2026-10-01T08:00:00+08:00","category":"E0102"`
	tests := []struct {
		name    string
		line    string
		want    int
		wantErr string
	}{
		{"absent", base + `}`, 0, ""},
		{"closed case reworked twice", base + `,"status":"closed","filed_at":"2026-10-01T09:00:00+08:00","dispatched_at":"2026-10-01T10:00:00+08:00","handled_at":"2026-10-02T10:00:00+08:00","closed_at":"2026-10-02T12:00:00+08:00","reworks":2}`, 2, ""},
		{"never dispatched", base + `,"reworks":1}`, 0, "reworks"},
		{"negative", base + `,"status":"closed","filed_at":"2026-10-01T09:00:00+08:00","dispatched_at":"2026-10-01T10:00:00+08:00","handled_at":"2026-10-02T10:00:00+08:00","closed_at":"2026-10-02T12:00:00+08:00","reworks":-1}`, 0, "reworks"},
		{"not a number", base + `,"reworks":"two"}`, 0, "reworks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ParseJSON([]byte(tc.line))
			var inc *Incident
			if err == nil {
				inc, err = in.Validate(cat)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inc.Reworks != tc.want {
				t.Fatalf("reworks %d, want %d", inc.Reworks, tc.want)
			}
		})
	}
}
