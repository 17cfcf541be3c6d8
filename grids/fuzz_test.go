package grids

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gridd/gridd/geo"
)

// FuzzReadGeoJSON feeds the importer arbitrary bytes. It must never panic,
// and whatever it accepts must keep the model's promises: a sound
// hierarchy, closed simple rings with RFC 7946 winding, finite WGS84
// coordinates, and a lossless round trip through WriteGeoJSON.
func FuzzReadGeoJSON(f *testing.F) {
	addGeoJSONSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		gs, err := ReadGeoJSON(bytes.NewReader(data), ImportOptions{})
		if err != nil {
			if gs != nil {
				t.Fatalf("grids returned along with error %v", err)
			}
			return
		}
		if errs := CheckHierarchy(gs); len(errs) > 0 {
			t.Fatalf("accepted a set failing CheckHierarchy: %v", errs)
		}
		for _, g := range gs {
			if len(g.Geometry) == 0 {
				t.Fatalf("%s: accepted without geometry", g.Code)
			}
			for _, poly := range g.Geometry {
				for ri, ring := range poly {
					if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
						t.Fatalf("%s: ring not closed: %v", g.Code, ring)
					}
					for _, p := range ring {
						if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
							t.Fatalf("%s: bad vertex %v", g.Code, p)
						}
					}
					a := geo.RingArea(ring)
					if (ri == 0 && !(a > 0)) || (ri > 0 && !(a < 0)) {
						t.Fatalf("%s: ring %d has signed area %v", g.Code, ri, a)
					}
					if hit, at := geo.RingSelfIntersects(ring); hit {
						t.Fatalf("%s: accepted a ring that self-intersects at %v", g.Code, at)
					}
				}
			}
		}
		var buf bytes.Buffer
		if err := WriteGeoJSON(&buf, gs); err != nil {
			t.Fatalf("writing accepted grids: %v", err)
		}
		back, err := ReadGeoJSON(&buf, ImportOptions{})
		if err != nil {
			t.Fatalf("reading back written grids: %v", err)
		}
		if !reflect.DeepEqual(back, gs) {
			t.Fatal("round trip changed the grids")
		}
	})
}

// addGeoJSONSeeds seeds a fuzz test with the GeoJSON files of testdata,
// good and bad.
func addGeoJSONSeeds(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.geojson"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.geojson"))
	for _, name := range append(seeds, bad...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
