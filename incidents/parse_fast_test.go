package incidents

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// sameInput compares two inputs field by field, the pointed-to numbers by
// value (NaN never arrives from JSON).
func sameInput(a, b Input) string {
	num := func(name string, x, y *float64) string {
		switch {
		case (x == nil) != (y == nil):
			return fmt.Sprintf("%s: %v vs %v", name, x, y)
		case x != nil && math.Float64bits(*x) != math.Float64bits(*y):
			return fmt.Sprintf("%s: %v vs %v", name, *x, *y)
		}
		return ""
	}
	if d := num("lon", a.Lon, b.Lon); d != "" {
		return d
	}
	if d := num("lat", a.Lat, b.Lat); d != "" {
		return d
	}
	switch {
	case (a.Reworks == nil) != (b.Reworks == nil):
		return fmt.Sprintf("reworks: %v vs %v", a.Reworks, b.Reworks)
	case a.Reworks != nil && *a.Reworks != *b.Reworks:
		return fmt.Sprintf("reworks: %d vs %d", *a.Reworks, *b.Reworks)
	}
	a.Lon, a.Lat, a.Reworks = nil, nil, nil
	b.Lon, b.Lat, b.Reworks = nil, nil, nil
	if a != b {
		return fmt.Sprintf("%+v vs %+v", a, b)
	}
	return ""
}

// checkSameParse holds ParseJSON, which tries the fast path first, to what
// encoding/json alone makes of data: the same input, or the same error.
func checkSameParse(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := ParseJSON(data)
	want, werr := parseJSONGeneral(data)
	switch {
	case (gerr == nil) != (werr == nil):
		t.Fatalf("%q: error %v, encoding/json %v", data, gerr, werr)
	case gerr != nil && gerr.Error() != werr.Error():
		t.Fatalf("%q: error %q, encoding/json %q", data, gerr, werr)
	}
	if d := sameInput(got, want); d != "" {
		t.Fatalf("%q: %s", data, d)
	}
}

func TestParseFastTakesCommonLines(t *testing.T) {
	for _, line := range []string{
		strings.TrimSpace(benchLines(1)),
		`{"lon":116.4,"lat":39.9,"reported_at":"2024-03-01T00:00:00Z","category":"市容环境/暴露垃圾","crs":"bd09","status":"closed","filed_at":"2024-03-01T01:00:00Z","dispatched_at":"2024-03-01T02:00:00Z","handled_at":"2024-03-01T03:00:00Z","closed_at":"2024-03-01T04:00:00Z","reworks":2}`,
		` { "lat" : -0.5e-3 , "lon":-0, "category":"", "deadline":"x", "source":"app", "external_id":"aé", "description":"暴露垃圾"}` + "\r",
		"{\n\t\"lon\": 1E+2,\n\t\"reworks\": -0\n}",
		`{}`,
	} {
		if _, ok := parseFast([]byte(line)); !ok {
			t.Errorf("fast path refused %q", line)
		}
		checkSameParse(t, []byte(line))
	}
}

func TestParseFastLeavesTheRestToEncodingJSON(t *testing.T) {
	for _, line := range []string{
		`{"LON":1}`,                        // keys match case-insensitively
		`{"lon":1,"lon":2}`,                // the last of a repeated key wins
		`{"other":{"a":[1,2]}}`,            // unknown keys are skipped
		`{"lon":null}`,                     // null leaves the field alone
		`{"category":"a\"b"}`,              // escapes
		`{"category":"a\nb"}`,              // a raw control character
		"{\"category\":\"\xff\"}",          // invalid UTF-8 becomes U+FFFD
		`{"lon":"116.4"}`,                  // a string for a number
		`{"category":5}`,                   // a number for a string
		`{"lon":1e400}`,                    // out of range
		`{"reworks":1.5}`,                  // not whole
		`{"reworks":99999999999999999999}`, // too large
		`{"lon":01}`, `{"lon":1.}`, `{"lon":.5}`, `{"lon":+1}`, `{"lon":-}`, `{"lon":1e}`,
		`{"lon":1,}`, `{"lon":1} x`, `{"lon" 1}`, `{"lon":1`, `[1]`, `null`, ``, `{`,
	} {
		if _, ok := parseFast([]byte(line)); ok {
			t.Errorf("fast path took %q", line)
		}
		checkSameParse(t, []byte(line))
	}
}

func FuzzParseFast(f *testing.F) {
	for _, line := range strings.Split(benchLines(3), "\n") {
		f.Add(line)
	}
	f.Add(`{"lon":116.4,"lat":39.9,"reported_at":"2024-03-01T00:00:00Z","category":"市容环境/暴露垃圾","crs":"bd09","status":"closed","reworks":3}`)
	f.Add(`{"lon":-1.5e-7,"lat":0,"reworks":-0,"description":"","external_id":" x "}`)
	f.Add(`{"LON":1,"lon":2,"lat":null,"category":"a\u0041\n","x":[{}]}`)
	f.Add("{\"category\":\"\xed\xa0\x80\",\"lon\":1e400}")
	f.Fuzz(func(t *testing.T, s string) {
		checkSameParse(t, []byte(s))
	})
}

func BenchmarkParseJSONLine(b *testing.B) {
	line := []byte(strings.TrimSpace(benchLines(1)))
	for _, bb := range []struct {
		name  string
		parse func([]byte) (Input, error)
	}{{"fast", ParseJSON}, {"encoding-json", parseJSONGeneral}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for i := 0; i < b.N; i++ {
				if _, err := bb.parse(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
