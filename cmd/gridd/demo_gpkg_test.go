package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
)

// After `gridd serve --data city.gpkg --demo` has run and stopped, GDAL
// reads the file as it is: ogrinfo lists the grids and incidents layers with
// the demo's feature counts and geometry types, and ogr2ogr gives back the
// grids' geometry as generated.
func TestDemoGeoPackageOpensInGDAL(t *testing.T) {
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		t.Fatal("ogrinfo not found: `make test` installs gdal-bin")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "city.gpkg")
	c := startServe(t, "--data", data, "--demo")
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("gridd did not stop cleanly: %v\n%s", err, c.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gridd did not stop on SIGTERM")
	}

	city, recs, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		layer, geom string
		count       int
	}{
		{"grids", "Multi Polygon", len(city)},
		{"incidents", "Point", len(recs)},
	} {
		out, err := exec.Command("ogrinfo", "-ro", "-so", data, tc.layer).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", tc.layer, err, out)
		}
		if !bytes.Contains(out, []byte("Geometry: "+tc.geom)) {
			t.Errorf("ogrinfo %s: geometry type is not %s:\n%s", tc.layer, tc.geom, out)
		}
		m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("ogrinfo %s: no feature count:\n%s", tc.layer, out)
		}
		if n, _ := strconv.Atoi(string(m[1])); n != tc.count {
			t.Errorf("ogrinfo %s: %d features, want %d", tc.layer, n, tc.count)
		}
	}

	geojsonPath := filepath.Join(dir, "grids.geojson")
	if out, err := exec.Command("ogr2ogr", "-f", "GeoJSON", "-lco", "COORDINATE_PRECISION=15", geojsonPath, data, "grids").CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, out)
	}
	raw, err := exec.Command("cat", geojsonPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Coordinates [][][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	byCode := map[string]*grids.Grid{}
	for _, g := range city {
		byCode[g.Code] = g
	}
	if len(fc.Features) != len(city) {
		t.Fatalf("ogr2ogr wrote %d grids, want %d", len(fc.Features), len(city))
	}
	for _, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		g := byCode[code]
		if g == nil {
			t.Fatalf("ogr2ogr gave grid %q, not in the demo city", code)
		}
		got := f.Geometry.Coordinates
		if len(got) != len(g.Geometry) {
			t.Fatalf("grid %s: %d polygons, want %d", code, len(got), len(g.Geometry))
		}
		for pi, poly := range g.Geometry {
			if len(got[pi]) != len(poly) {
				t.Fatalf("grid %s polygon %d: %d rings, want %d", code, pi, len(got[pi]), len(poly))
			}
			for ri, ring := range poly {
				if len(got[pi][ri]) != len(ring) {
					t.Fatalf("grid %s ring %d: %d vertices, want %d", code, ri, len(got[pi][ri]), len(ring))
				}
				for vi, v := range ring {
					w := got[pi][ri][vi]
					if math.Abs(w[0]-v[0]) > 1e-12 || math.Abs(w[1]-v[1]) > 1e-12 {
						t.Fatalf("grid %s vertex %d: GDAL gives %v, generated %v", code, vi, w, v)
					}
				}
			}
		}
	}
}
