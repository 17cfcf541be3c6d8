package incidents

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// checkValidated states what Validate guarantees of any incident it
// returns, whatever the input.
func checkValidated(t *testing.T, cat *Catalogue, inc *Incident) {
	t.Helper()
	if math.IsNaN(inc.Lon) || math.IsNaN(inc.Lat) || math.Abs(inc.Lon) > 180 || math.Abs(inc.Lat) > 90 {
		t.Fatalf("coordinates out of range: %v,%v", inc.Lon, inc.Lat)
	}
	if c, ok := cat.Lookup(inc.Category); !ok || c.Code != inc.Category {
		t.Fatalf("category %q is not a catalogue code", inc.Category)
	}
	if !inc.Status.Valid() {
		t.Fatalf("status %q", inc.Status)
	}
	if inc.Source != "" && sourceCode(inc.Source) == 0 {
		t.Fatalf("source %q", inc.Source)
	}
	if inc.Deadline != nil && inc.Deadline.Before(inc.ReportedAt) {
		t.Fatal("deadline before report")
	}
	for _, h := range inc.History {
		if h.At.Before(inc.ReportedAt) {
			t.Fatal("history before report")
		}
	}
	// The columns analytics read must take whatever Validate lets through.
	inc.ID = 1
	if _, err := NewColumns().Append(inc); err != nil {
		t.Fatalf("validated incident refused by Columns: %v", err)
	}
}

func fuzzCallback(t *testing.T, cat *Catalogue) func(int, Input, error) error {
	last := 0
	return func(line int, in Input, err error) error {
		if line <= last {
			t.Fatalf("line %d after %d", line, last)
		}
		last = line
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != line {
				t.Fatalf("error %v is not a LineError for line %d", err, line)
			}
			return nil
		}
		if inc, verr := in.Validate(cat); verr == nil {
			checkValidated(t, cat, inc)
		} else {
			var fe *FieldError
			if !errors.As(verr, &fe) || fe.Field == "" {
				t.Fatalf("validate error %v names no field", verr)
			}
		}
		return nil
	}
}

func FuzzParseNDJSON(f *testing.F) {
	f.Add(benchLines(3))
	f.Add(`{"lon":116.4,"lat":39.9,"reported_at":"2024-03-01T00:00:00Z","category":"市容环境/暴露垃圾","crs":"bd09","status":"closed","filed_at":"2024-03-01T01:00:00Z","dispatched_at":"2024-03-01T02:00:00Z","handled_at":"2024-03-01T03:00:00Z","closed_at":"2024-03-01T04:00:00Z"}`)
	f.Add("{\"lon\":1e400}\n\n{broken\r\n")
	f.Add(`{"lon":-180,"lat":90,"reported_at":"2106-02-07T06:28:15Z","category":"e0102","deadline":"2106-02-07T06:28:15Z"}`)
	cat := Builtin()
	f.Fuzz(func(t *testing.T, s string) {
		if err := ParseNDJSON(strings.NewReader(s), fuzzCallback(t, cat)); err != nil {
			t.Fatalf("ParseNDJSON returned %v with a callback that never fails", err)
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add("lon,lat,reported_at,category\n116.4,39.9,2024-03-01T00:00:00Z,E0102\n")
	f.Add("lon,lat,reported_at,category,status\nNaN,Inf,x,y,z\n\"a\nb\",1,2\n")
	f.Add("category,reported_at,lat,lon,crs\nE0102,2024-03-01T00:00:00+08:00,39.9,116.4,gcj02\n")
	cat := Builtin()
	f.Fuzz(func(t *testing.T, s string) {
		// A header error ends the parse; anything else reaches the callback.
		_ = ParseCSV(strings.NewReader(s), fuzzCallback(t, cat))
	})
}

func FuzzParseGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[116.39,39.9]},"properties":{"reported_at":"2024-03-01T00:00:00Z","category":"E0102"}}]}`)
	f.Add(`{"features":[{"type":"Feature","geometry":null},{"type":"Feature","geometry":{"type":"Point","coordinates":[]}}]}`)
	cat := Builtin()
	f.Fuzz(func(t *testing.T, s string) {
		_ = ParseGeoJSON(strings.NewReader(s), fuzzCallback(t, cat))
	})
}
