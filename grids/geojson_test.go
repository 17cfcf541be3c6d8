package grids

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gridd/gridd/geo"
	"github.com/paulmach/orb"
)

func readTestFile(t testing.TB, name string, opt ImportOptions) ([]*Grid, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadGeoJSON(f, opt)
}

func TestReadGeoJSONTiny(t *testing.T) {
	gs, err := readTestFile(t, "tiny.geojson", ImportOptions{})
	if err != nil {
		t.Fatalf("ReadGeoJSON: %v", err)
	}
	if len(gs) != 9 {
		t.Fatalf("got %d grids, want 9", len(gs))
	}
	byCode := map[string]*Grid{}
	count := map[Level]int{}
	for _, g := range gs {
		byCode[g.Code] = g
		count[g.Level]++
		checkGridGeometry(t, g)
	}
	if want := map[Level]int{LevelDistrict: 1, LevelStreet: 2, LevelCommunity: 2, LevelGrid: 4}; !reflect.DeepEqual(count, want) {
		t.Errorf("levels %v, want %v", count, want)
	}

	d := byCode["110101"]
	if d.Name != "示范区" || d.Parent != "" || d.Department != "示范区城市管理指挥中心" || d.Attrs != nil {
		t.Errorf("district read as %+v", d)
	}
	holed := byCode["110101001001001"]
	if holed.Parent != "110101001001" || holed.Department != "东社区网格站" {
		t.Errorf("grid read as %+v", holed)
	}
	wantAttrs := map[string]any{"population": 1830.0, "tags": []any{"居民区", "学校"}}
	if !reflect.DeepEqual(holed.Attrs, wantAttrs) {
		t.Errorf("attrs %#v, want %#v", holed.Attrs, wantAttrs)
	}
	if len(holed.Geometry) != 1 || len(holed.Geometry[0]) != 2 {
		t.Errorf("holed grid geometry %v, want one polygon with a hole", holed.Geometry)
	}
	// The hole is exactly the other grid's exterior, reversed.
	filler := byCode["110101001001002"].Geometry[0][0]
	hole := holed.Geometry[0][1]
	if geo.RingArea(hole) != -geo.RingArea(filler) || !sameVertexSet(hole, filler) {
		t.Errorf("hole %v does not match filler %v", hole, filler)
	}
	if manager := byCode["110101001001002"].Attrs["manager"]; !reflect.DeepEqual(manager, map[string]any{"name": "李明", "phone": nil}) {
		t.Errorf("nested attribute read as %#v", manager)
	}
	if multi := byCode["110101002001001"]; len(multi.Geometry) != 2 || multi.Attrs["commercial"] != true {
		t.Errorf("multipolygon grid read as %+v", multi)
	}
	// Drawn clockwise in the file.
	if a := geo.RingArea(byCode["110101002"].Geometry[0][0]); a <= 0 {
		t.Errorf("clockwise street not normalised: area %v", a)
	}
}

// checkGridGeometry asserts what the model promises about geometry.
func checkGridGeometry(t testing.TB, g *Grid) {
	t.Helper()
	if len(g.Geometry) == 0 {
		t.Errorf("%s: no geometry", g.Code)
	}
	for pi, poly := range g.Geometry {
		for ri, ring := range poly {
			if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
				t.Errorf("%s polygon %d ring %d not closed: %v", g.Code, pi, ri, ring)
				continue
			}
			for _, p := range ring {
				if p[0] != p[0] || p[1] != p[1] {
					t.Errorf("%s: NaN vertex", g.Code)
				}
			}
			a := geo.RingArea(ring)
			if (ri == 0 && a <= 0) || (ri > 0 && a >= 0) {
				t.Errorf("%s polygon %d ring %d has area %v: wrong winding", g.Code, pi, ri, a)
			}
		}
	}
}

func sameVertexSet(a, b orb.Ring) bool {
	set := map[orb.Point]bool{}
	for _, p := range a {
		set[p] = true
	}
	for _, p := range b {
		if !set[p] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestReadGeoJSONBad(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		whole string   // a whole-file error containing this
		want  []string // else feature errors, in order, each "index: reason part"
	}{
		{name: "not json", file: "not_json.geojson", whole: "not valid JSON"},
		{name: "a feature, not a collection", file: "not_feature_collection.geojson", whole: `type is "Feature"`},
		{name: "no features member", file: "no_features.geojson", whole: `no "features" array`},
		{name: "point geometry", file: "point_geometry.geojson", want: []string{"3: geometry is a Point, want Polygon or MultiPolygon"}},
		{name: "missing geometry", file: "missing_geometry.geojson", want: []string{"3: geometry is missing"}},
		{name: "unknown geometry type", file: "unknown_geometry_type.geojson", want: []string{`3: geometry: type "Circle" is not a GeoJSON geometry type`}},
		{name: "unclosed ring", file: "unclosed_ring.geojson", want: []string{"3: exterior ring is not closed: first position (116.4, 39.9), last (116.4, 39.905)"}},
		{name: "short ring", file: "short_ring.geojson", want: []string{"3: exterior ring has 3 positions, want at least 4"}},
		{name: "number too big for a float", file: "huge_number.geojson", want: []string{"3: geometry: number 1e400 does not fit a 64-bit float"}},
		{name: "coordinate as a string", file: "string_coordinate.geojson", want: []string{"3: geometry: found a string, want a number"}},
		{name: "longitude out of range", file: "lon_out_of_range.geojson", want: []string{"3: exterior ring has longitude 190 outside [-180, 180]"}},
		{name: "latitude out of range", file: "lat_out_of_range.geojson", want: []string{"3: exterior ring has latitude 95 outside [-90, 90]"}},
		{name: "bow-tie", file: "bowtie.geojson", want: []string{"3: exterior ring self-intersects at (116.405, 39.905)"}},
		{name: "zero area", file: "zero_area.geojson", want: []string{"3: exterior ring has zero area"}},
		{name: "hole outside its shell", file: "hole_outside.geojson", want: []string{"3: hole 1 is not inside the exterior ring (vertex (116.42, 39.92))"}},
		{name: "code is a number", file: "code_number.geojson", want: []string{`3: property "code" must be a string, not a number`}},
		{name: "code missing", file: "missing_code.geojson", want: []string{`3: property "code" is missing`}},
		{name: "name missing", file: "missing_name.geojson", want: []string{`3: property "name" is missing`}},
		{name: "unknown level", file: "bad_level.geojson", want: []string{`3: property "level": unknown level "city"`}},
		{name: "feature type", file: "feature_type.geojson", want: []string{`3: member "type" is "Feat", want "Feature"`}},
		{name: "hierarchy", file: "hierarchy.geojson", want: []string{
			"3: code 110102001001001 does not start with its parent's code 110101001001",
			"4: parent 110101009009 is not in the set",
			"6: duplicate code 110101001001003 (also feature 5)",
			"7: parent 110101001 is a street, a grid's parent must be a community",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := readTestFile(t, filepath.Join("bad", tt.file), ImportOptions{})
			if gs != nil {
				t.Errorf("got %d grids along with the error", len(gs))
			}
			if err == nil {
				t.Fatal("no error")
			}
			var ie *ImportError
			if tt.whole != "" {
				if errors.As(err, &ie) || !strings.Contains(err.Error(), tt.whole) {
					t.Fatalf("error %q, want a whole-file error containing %q", err, tt.whole)
				}
				return
			}
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *ImportError", err)
			}
			var got []string
			for _, fe := range ie.Errors {
				got = append(got, fmt.Sprintf("%d: %s", fe.Index, fe.Reason))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// Inputs too odd to keep as files: each is wrapped as the fourth feature of
// a valid district → street → community chain unless whole is set.
func TestReadGeoJSONMalformed(t *testing.T) {
	const chain = `{"type":"Feature","properties":{"code":"110101","name":"d","level":"district"},"geometry":{"type":"Polygon","coordinates":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]]}},
{"type":"Feature","properties":{"code":"110101001","name":"s","level":"street","parent":"110101"},"geometry":{"type":"Polygon","coordinates":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]]}},
{"type":"Feature","properties":{"code":"110101001001","name":"c","level":"community","parent":"110101001"},"geometry":{"type":"Polygon","coordinates":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]]}}`
	const props = `"properties":{"code":"110101001001001","name":"g","level":"grid","parent":"110101001001"}`
	tests := []struct {
		name  string
		input string
		whole bool   // input is the whole file
		want  string // the first error contains this
	}{
		{name: "empty file", whole: true, input: ``, want: "not valid JSON: the file ends early"},
		{name: "array at the top", whole: true, input: `[]`, want: "the file is not a JSON object"},
		{name: "type not a string", whole: true, input: `{"type":5,"features":[]}`, want: "type is 5"},
		{name: "no type", whole: true, input: `{"features":[]}`, want: `no "type" member`},
		{name: "features not an array", whole: true, input: `{"type":"FeatureCollection","features":{}}`, want: `"features" is not an array`},
		{name: "features twice", whole: true, input: `{"type":"FeatureCollection","features":[],"features":[]}`, want: `"features" appears twice`},
		{name: "trailing data", whole: true, input: `{"type":"FeatureCollection","features":[]} {}`, want: "unexpected data after the FeatureCollection"},
		{name: "syntax error", whole: true, input: `{"type":"FeatureCollection","features":[{]}`, want: "not valid JSON: invalid character"},
		{name: "feature is a number", input: `5`, want: "3: feature is a number, not an object"},
		{name: "feature is null", input: `null`, want: `3: member "type" is missing, want "Feature"`},
		{name: "geometry not an object", input: `{"type":"Feature",` + props + `,"geometry":"POLYGON((0 0))"}`, want: `3: found a string in "geometry", want an object`},
		{name: "properties not an object", input: `{"type":"Feature","properties":[1],"geometry":null}`, want: "3: properties: found an array, want an object"},
		{name: "geometry collection", input: `{"type":"Feature",` + props + `,"geometry":{"type":"GeometryCollection","geometries":[]}}`, want: "3: geometry is a GeometryCollection, want Polygon or MultiPolygon"},
		{name: "geometry without type", input: `{"type":"Feature",` + props + `,"geometry":{"coordinates":[]}}`, want: `3: geometry: no "type" member`},
		{name: "coordinates not arrays", input: `{"type":"Feature",` + props + `,"geometry":{"type":"Polygon","coordinates":5}}`, want: "3: geometry: found a number, want an array of positions"},
		{name: "empty polygon", input: `{"type":"Feature",` + props + `,"geometry":{"type":"Polygon","coordinates":[]}}`, want: "3: geometry is an empty Polygon"},
		{name: "polygon without coordinates", input: `{"type":"Feature",` + props + `,"geometry":{"type":"Polygon"}}`, want: "3: geometry is an empty Polygon"},
		{name: "empty multipolygon", input: `{"type":"Feature",` + props + `,"geometry":{"type":"MultiPolygon","coordinates":[]}}`, want: "3: geometry is an empty MultiPolygon"},
		{name: "multipolygon with an empty polygon", input: `{"type":"Feature",` + props + `,"geometry":{"type":"MultiPolygon","coordinates":[[]]}}`, want: "3: polygon 0 has no rings"},
		{name: "point with huge number", input: `{"type":"Feature",` + props + `,"geometry":{"type":"Point","coordinates":[1e999,0]}}`, want: "3: geometry: number 1e999 does not fit a 64-bit float"},
		{name: "property number too big", input: `{"type":"Feature","properties":{"code":"110101001001001","n":1e400},"geometry":null}`, want: "3: properties: number 1e400 does not fit a 64-bit float"},
		{name: "name not a string", input: `{"type":"Feature","properties":{"code":"110101001001001","name":["g"],"level":"grid","parent":"110101001001"},"geometry":null}`, want: `3: property "name" must be a string, not an array`},
		{name: "blank name", input: `{"type":"Feature","properties":{"code":"110101001001001","name":"  ","level":"grid","parent":"110101001001"},"geometry":null}`, want: `3: property "name" is empty`},
		{name: "parent not a string", input: `{"type":"Feature","properties":{"code":"110101001001001","name":"g","level":"grid","parent":110101001001},"geometry":null}`, want: `3: property "parent" must be a string, not a number`},
		{name: "hole ring unclosed in a multipolygon", input: `{"type":"Feature",` + props + `,"geometry":{"type":"MultiPolygon","coordinates":[[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]],[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]],[[116.401,39.901],[116.402,39.901],[116.402,39.902],[116.401,39.9015]]]]}}`, want: "3: polygon 1 hole 1 is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input
			if !tt.whole {
				input = `{"type":"FeatureCollection","features":[` + chain + ",\n" + tt.input + "]}"
			}
			gs, err := ReadGeoJSON(strings.NewReader(input), ImportOptions{})
			if err == nil || gs != nil {
				t.Fatalf("got %d grids and error %v", len(gs), err)
			}
			var ie *ImportError
			if errors.As(err, &ie) == tt.whole {
				t.Fatalf("error %v: want whole-file %v", err, tt.whole)
			}
			got := err.Error()
			if ie != nil {
				got = fmt.Sprintf("%d: %s", ie.Errors[0].Index, ie.Errors[0].Reason)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("error %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestReadGeoJSONEmptyCollection(t *testing.T) {
	gs, err := ReadGeoJSON(strings.NewReader(`{"features":[],"type":"FeatureCollection","bbox":[0,0,1,1]}`), ImportOptions{})
	if err != nil || len(gs) != 0 {
		t.Fatalf("got %v, %v; want no grids and no error", gs, err)
	}
}

func TestImportErrorMessage(t *testing.T) {
	_, err := readTestFile(t, "bad/many_errors.geojson", ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Errors) != 25 {
		t.Fatalf("want 25 feature errors, got %v", err)
	}
	msg := err.Error()
	lines := strings.Split(msg, "\n")
	if lines[0] != "25 invalid features" || len(lines) != 22 || strings.TrimSpace(lines[21]) != "and 5 more" {
		t.Errorf("message:\n%s", msg)
	}
	if want := `feature 3 (code 110101001001001): property "level": unknown level "city"`; !strings.Contains(lines[1], want) {
		t.Errorf("first line %q, want %q", lines[1], want)
	}
	one := &ImportError{Errors: []FeatureError{{Index: 2, Reason: "geometry is missing"}}}
	if one.Error() != "1 invalid feature\n  feature 2: geometry is missing" {
		t.Errorf("single error message %q", one.Error())
	}
}

func TestReadGeoJSONBadCRS(t *testing.T) {
	_, err := readTestFile(t, "tiny.geojson", ImportOptions{CRS: "epsg:3857"})
	if err == nil || !strings.Contains(err.Error(), "unknown crs") {
		t.Fatalf("error %v, want unknown crs", err)
	}
}

func TestWriteGeoJSONRoundTrip(t *testing.T) {
	gs, err := readTestFile(t, "tiny.geojson", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var first, second bytes.Buffer
	if err := WriteGeoJSON(&first, gs); err != nil {
		t.Fatal(err)
	}
	back, err := ReadGeoJSON(bytes.NewReader(first.Bytes()), ImportOptions{})
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, first.String())
	}
	if !reflect.DeepEqual(back, gs) {
		t.Errorf("round trip changed the grids:\n%s", first.String())
	}
	if err := WriteGeoJSON(&second, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("output not deterministic:\n%s\n----\n%s", first.String(), second.String())
	}
	// Reserved properties come first, in a fixed order, then attributes.
	wantLine := `{"type":"Feature","properties":{"code":"110101001001002","name":"东二网格","level":"grid","parent":"110101001001","department":"东社区网格站","manager":{"name":"李明","phone":null},"population":640},"geometry":{"type":"Polygon","coordinates":[[[116.405,39.905],[116.415,39.905],[116.415,39.915],[116.405,39.915],[116.405,39.905]]]}}`
	if !strings.Contains(first.String(), wantLine+",\n") {
		t.Errorf("output lacks the line\n%s\ngot:\n%s", wantLine, first.String())
	}
}

func TestWriteGeoJSONErrors(t *testing.T) {
	sq := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}
	tests := []struct {
		name string
		g    *Grid
		want string
	}{
		{name: "reserved attribute", g: &Grid{Code: "110101", Name: "a", Level: LevelDistrict, Geometry: sq,
			Attrs: map[string]any{"parent": "x"}}, want: `attribute "parent" has the name of a reserved property`},
		{name: "unencodable attribute", g: &Grid{Code: "110101", Name: "a", Level: LevelDistrict, Geometry: sq,
			Attrs: map[string]any{"ch": make(chan int)}}, want: `property "ch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteGeoJSON(&bytes.Buffer{}, []*Grid{tt.g})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadGeoJSONConvertsCRS(t *testing.T) {
	orig, err := readTestFile(t, "tiny.geojson", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
		t.Run(string(crs), func(t *testing.T) {
			// Shift a copy of the set into crs, write it, and read it back.
			var buf bytes.Buffer
			if err := WriteGeoJSON(&buf, mapGrids(orig, func(p orb.Point) orb.Point {
				lon, lat := geo.FromWGS84(crs, p[0], p[1])
				return orb.Point{lon, lat}
			})); err != nil {
				t.Fatal(err)
			}
			back, err := ReadGeoJSON(&buf, ImportOptions{CRS: crs})
			if err != nil {
				t.Fatal(err)
			}
			converted := map[orb.Point]orb.Point{} // original vertex → imported
			for i, g := range back {
				checkGridGeometry(t, g)
				for pi, poly := range g.Geometry {
					for ri, ring := range poly {
						for k, p := range ring {
							o := orig[i].Geometry[pi][ri][k]
							if d := geo.Haversine(o, p); d >= 0.01 {
								t.Fatalf("%s: vertex %v imported as %v, %.4f m off", g.Code, o, p, d)
							}
							// A vertex shared in the source stays shared.
							if prev, ok := converted[o]; ok && prev != p {
								t.Fatalf("%s: vertex %v imported as %v and as %v", g.Code, o, prev, p)
							}
							converted[o] = p
						}
					}
				}
			}
		})
	}
}

// mapGrids copies grids with every vertex mapped by f.
func mapGrids(gs []*Grid, f func(orb.Point) orb.Point) []*Grid {
	out := make([]*Grid, len(gs))
	for i, g := range gs {
		c := *g
		c.Geometry = make(orb.MultiPolygon, len(g.Geometry))
		for pi, poly := range g.Geometry {
			c.Geometry[pi] = make(orb.Polygon, len(poly))
			for ri, ring := range poly {
				r := make(orb.Ring, len(ring))
				for k, p := range ring {
					r[k] = f(p)
				}
				c.Geometry[pi][ri] = r
			}
		}
		out[i] = &c
	}
	return out
}

// syntheticCity builds a valid set: one district, 10 streets, 10
// communities each, and grids of vertsPerSide*4 vertices on a lattice.
func syntheticCity(nGrids, vertsPerSide int) []*Grid {
	const streets, communitiesPerStreet = 10, 10
	perCommunity := (nGrids + streets*communitiesPerStreet - 1) / (streets * communitiesPerStreet)
	box := func(x0, y0, x1, y1 float64, k int) orb.MultiPolygon {
		var r orb.Ring
		for i := range k {
			r = append(r, orb.Point{x0 + (x1-x0)*float64(i)/float64(k), y0})
		}
		for i := range k {
			r = append(r, orb.Point{x1, y0 + (y1-y0)*float64(i)/float64(k)})
		}
		for i := range k {
			r = append(r, orb.Point{x1 - (x1-x0)*float64(i)/float64(k), y1})
		}
		for i := range k {
			r = append(r, orb.Point{x0, y1 - (y1-y0)*float64(i)/float64(k)})
		}
		return orb.MultiPolygon{{append(r, r[0])}}
	}
	const size = 0.002
	gs := []*Grid{{Code: "110101", Name: "district", Level: LevelDistrict, Geometry: box(116, 39, 117, 40, 1)}}
	n := 0
	for s := range streets {
		sc := fmt.Sprintf("110101%03d", s+1)
		gs = append(gs, &Grid{Code: sc, Name: "street", Level: LevelStreet, Parent: "110101", Geometry: box(116, 39, 117, 40, 1)})
		for c := range communitiesPerStreet {
			cc := fmt.Sprintf("%s%03d", sc, c+1)
			gs = append(gs, &Grid{Code: cc, Name: "community", Level: LevelCommunity, Parent: sc, Geometry: box(116, 39, 117, 40, 1)})
			for k := 0; k < perCommunity && n < nGrids; k++ {
				x := 116 + size*float64(n%400)
				y := 39 + size*float64(n/400)
				gs = append(gs, &Grid{
					Code: fmt.Sprintf("%s%03d", cc, k+1), Name: "grid", Level: LevelGrid, Parent: cc,
					Department: "station", Attrs: map[string]any{"population": float64(n % 3000)},
					Geometry: box(x, y, x+size, y+size, vertsPerSide),
				})
				n++
			}
		}
	}
	return gs
}

func TestSyntheticCityRoundTrip(t *testing.T) {
	gs := syntheticCity(2000, 12)
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, gs); err != nil {
		t.Fatal(err)
	}
	back, err := ReadGeoJSON(&buf, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, gs) {
		t.Fatal("synthetic city changed on the round trip")
	}
}

// BenchmarkReadGeoJSON reads a 50,000-grid city of 49 positions per grid.
func BenchmarkReadGeoJSON(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, syntheticCity(50_000, 12)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		gs, err := ReadGeoJSON(bytes.NewReader(data), ImportOptions{})
		if err != nil || len(gs) != 50_000+111 {
			b.Fatalf("read %d grids: %v", len(gs), err)
		}
	}
}

func BenchmarkWriteGeoJSON(b *testing.B) {
	gs := syntheticCity(50_000, 12)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteGeoJSON(io.Discard, gs); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleReadGeoJSON() {
	f, err := os.Open("testdata/tiny.geojson")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	gs, err := ReadGeoJSON(f, ImportOptions{CRS: geo.WGS84})
	if err != nil {
		panic(err) // an *ImportError lists every bad feature
	}
	for _, g := range gs[:4] {
		fmt.Println(g.Code, g.Level, g.Parent, g.Name)
	}
	// Output:
	// 110101 district  示范区
	// 110101001 street 110101 东街道
	// 110101002 street 110101 西街道
	// 110101001001 community 110101001 东社区
}
