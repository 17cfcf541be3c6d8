package topo

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestGoldenOutputs(t *testing.T) {
	shifted := Validate(block(map[string]orb.MultiPolygon{leafB: mp(rectM(90, 0, 190, 100))}), Options{})
	// Coordinates rounded so that the files do not depend on the last bit
	// of the platform's floating point.
	for i := range shifted.Problems {
		p := &shifted.Problems[i]
		p.Place = orb.Round(p.Place, 1e9).(orb.Point)
		if p.Geometry != nil {
			p.Geometry = orb.Round(p.Geometry, 1e9)
		}
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var inc []IncidentPoint
	for id, xy := range [][2]float64{{110, 50}, {125, 10}, {50, 50}, {150, 50}, {150, 150}, {250, 50}} {
		p := pt(xy[0], xy[1])
		inc = append(inc, IncidentPoint{ID: int64(id + 1), Lon: p[0], Lat: p[1], At: now})
	}
	diff := Diff(block(nil), block(map[string]orb.MultiPolygon{
		leafA: mp(rectM(0, 0, 130, 100)),
		leafB: mp(rectM(130, 0, 200, 100)),
	}), inc, DiffOptions{})

	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"validate_shifted.txt", func(b *bytes.Buffer) error { return shifted.WriteText(b) }},
		{"validate_shifted.json", func(b *bytes.Buffer) error { return indentJSON(b, shifted) }},
		{"validate_shifted.geojson", func(b *bytes.Buffer) error { return indentJSON(b, shifted.GeoJSON()) }},
		{"diff_block.txt", func(b *bytes.Buffer) error { return diff.WriteText(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func indentJSON(b *bytes.Buffer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := json.Indent(b, raw, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	return nil
}
