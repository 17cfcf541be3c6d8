package gpkg

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
)

// gdalTool finds a GDAL command line tool; the GeoPackage must open in
// GDAL as is, so its absence fails the test rather than skipping it.
func gdalTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: this test checks the file with GDAL; `make test` installs gdal-bin (apt-get install -y gdal-bin)", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ogrFixture fills a GeoPackage: two grid sets of a small hierarchy (one
// grid with a hole, one made of two parts) and n incidents.
func ogrFixture(t *testing.T, path string, n int) []*grids.Grid {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gs := []*grids.Grid{
		{Code: "110101", Name: "东城区", Level: grids.LevelDistrict,
			Geometry: orb.MultiPolygon{{{{116.38, 39.90}, {116.42, 39.90}, {116.42, 39.94}, {116.38, 39.94}, {116.38, 39.90}}}}},
		{Code: "110101001", Name: "东华门街道", Level: grids.LevelStreet, Parent: "110101",
			Geometry: orb.MultiPolygon{{{{116.38, 39.90}, {116.42, 39.90}, {116.42, 39.94}, {116.38, 39.94}, {116.38, 39.90}}}}},
		{Code: "110101001001001", Name: "网格一", Level: grids.LevelGrid, Parent: "110101001001", Department: "城管",
			Attrs: map[string]any{"area_m2": 1234.5},
			Geometry: orb.MultiPolygon{{
				{{116.38, 39.90}, {116.40, 39.90}, {116.40, 39.92}, {116.38, 39.92}, {116.38, 39.90}},
				{{116.385, 39.905}, {116.385, 39.91}, {116.39, 39.91}, {116.39, 39.905}, {116.385, 39.905}},
			}}},
		{Code: "110101001001002", Name: "网格二", Level: grids.LevelGrid, Parent: "110101001001",
			Geometry: orb.MultiPolygon{
				{{{116.40, 39.90}, {116.42, 39.90}, {116.42, 39.92}, {116.40, 39.92}, {116.40, 39.90}}},
				{{{116.40, 39.92}, {116.4123456789, 39.92}, {116.41, 39.9376543211}, {116.40, 39.92}}},
			}},
	}
	for k := 0; k < 2; k++ {
		id, err := s.CreateGridSet(ctx, &grids.Set{Name: fmt.Sprintf("set %d", k), Grids: gs})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PublishGridSet(ctx, id, time.Date(2024, time.Month(1+k), 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	var batch []*incidents.Incident
	for i := 0; i < n; i++ {
		batch = append(batch, &incidents.Incident{
			ExternalID: fmt.Sprintf("ext-%d", i), Category: "E0102", Source: incidents.SourceApp,
			ReportedAt: time.Date(2024, 3, 1, 0, 0, i, 0, time.UTC),
			Lon:        116.38 + float64(i%200)*0.0002, Lat: 39.90 + float64(i/200)*0.0002,
			GridCode: "110101001001001", Status: incidents.StatusReported,
		})
	}
	if _, err := s.InsertIncidents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return gs
}

func TestGDALReadsGeoPackage(t *testing.T) {
	ogrinfo := gdalTool(t, "ogrinfo")
	ogr2ogr := gdalTool(t, "ogr2ogr")
	dir := t.TempDir()
	path := filepath.Join(dir, "city.gpkg")
	const nIncidents = 1000
	gs := ogrFixture(t, path, nIncidents)

	list := run(t, ogrinfo, "-ro", path)
	for _, want := range []string{"grids (Multi Polygon)", "incidents (Point)"} {
		if !strings.Contains(list, want) {
			t.Errorf("ogrinfo lists no layer %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "Warning") || strings.Contains(list, "ERROR") {
		t.Errorf("ogrinfo complains:\n%s", list)
	}

	layers := []struct {
		name     string
		geometry string
		count    int
	}{
		{name: "grids", geometry: "Multi Polygon", count: 2 * len(gs)},
		{name: "incidents", geometry: "Point", count: nIncidents},
		{name: "grid_sets", geometry: "None", count: 2},
	}
	for _, l := range layers {
		t.Run(l.name, func(t *testing.T) {
			out := run(t, ogrinfo, "-ro", "-so", path, l.name)
			if !strings.Contains(out, "Geometry: "+l.geometry) {
				t.Errorf("layer %s: want geometry %s:\n%s", l.name, l.geometry, out)
			}
			m := regexp.MustCompile(`Feature Count: (\d+)`).FindStringSubmatch(out)
			if m == nil || m[1] != fmt.Sprint(l.count) {
				t.Errorf("layer %s: feature count %v, want %d:\n%s", l.name, m, l.count, out)
			}
		})
	}

	// GDAL sees the R-tree index as the GeoPackage extension.
	idx := run(t, ogrinfo, "-ro", "-q", path, "-sql", "SELECT HasSpatialIndex('incidents', 'geom')")
	if !strings.Contains(idx, "HasSpatialIndex (Integer) = 1") {
		t.Errorf("GDAL finds no spatial index on incidents:\n%s", idx)
	}
	// A spatial filter goes through that index and finds the points in it.
	sp := run(t, ogrinfo, "-ro", "-so", "-spat", "116.38", "39.90", "116.3899", "39.9009", path, "incidents")
	if m := regexp.MustCompile(`Feature Count: (\d+)`).FindStringSubmatch(sp); m == nil || m[1] != "250" {
		t.Errorf("spatial filter count %v, want 250 (50 columns × 5 rows):\n%s", m, sp)
	}

	out := filepath.Join(dir, "grids.geojson")
	run(t, ogr2ogr, "-f", "GeoJSON", out, path, "grids")
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 2*len(gs) {
		t.Fatalf("ogr2ogr exported %d grids, want %d", len(fc.Features), 2*len(gs))
	}
	byCode := map[string]*grids.Grid{}
	for _, g := range gs {
		byCode[g.Code] = g
	}
	for _, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		want, ok := byCode[code]
		if !ok {
			t.Fatalf("exported grid with unknown code %q", code)
		}
		var got orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.MultiPolygon:
			got = g
		case orb.Polygon:
			got = orb.MultiPolygon{g}
		default:
			t.Fatalf("grid %s exported as %T", code, f.Geometry)
		}
		if !orb.Equal(got, want.Geometry) {
			t.Errorf("grid %s: GDAL gives back %v, imported %v", code, got, want.Geometry)
		}
		if f.Properties["name"] != want.Name || f.Properties["level"] != want.Level.String() {
			t.Errorf("grid %s properties %v", code, f.Properties)
		}
	}

	// GDAL's own GeoPackage validator, where python3-gdal is installed,
	// checks the requirements of the specification one by one.
	for _, v := range []string{"/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", "/usr/share/doc/python3-gdal/examples/validate_gpkg.py"} {
		if _, err := os.Stat(v); err != nil {
			continue
		}
		res, err := exec.Command("python3", v, path).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(res))) > 0 {
			t.Errorf("validate_gpkg.py: %v\n%s", err, res)
		}
		break
	}
}
