package grids

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gridd/gridd/geo"
	"github.com/paulmach/orb"
)

// dumpResult writes features' grids and problems in a form that tells any
// two different results apart: floats by their bits, nil from empty.
func dumpResult(gs []*Grid, errs [][]FeatureError) string {
	var b strings.Builder
	for i, g := range gs {
		fmt.Fprintf(&b, "feature %d: ", i)
		if g == nil {
			b.WriteString("no grid")
		} else {
			fmt.Fprintf(&b, "%q %q %v %q %q attrs=", g.Code, g.Name, g.Level, g.Parent, g.Department)
			dumpValue(&b, g.Attrs)
			b.WriteString(" geometry=")
			dumpValue(&b, g.Geometry)
		}
		b.WriteByte('\n')
	}
	for i, fes := range errs {
		if fes != nil {
			fmt.Fprintf(&b, "problems %d: %#v\n", i, fes)
		}
	}
	return b.String()
}

func dumpValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case float64:
		fmt.Fprintf(b, "%v(%#x)", v, math.Float64bits(v))
	case bool, string:
		fmt.Fprintf(b, "%#v", v)
	case []any:
		dumpList(b, v == nil, len(v), func(k int) any { return v[k] })
	case map[string]any:
		if v == nil {
			b.WriteString("nilmap")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for _, k := range keys {
			fmt.Fprintf(b, "%q:", k)
			dumpValue(b, v[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case orb.MultiPolygon:
		dumpList(b, v == nil, len(v), func(k int) any { return v[k] })
	case orb.Polygon:
		dumpList(b, v == nil, len(v), func(k int) any { return v[k] })
	case orb.Ring:
		dumpList(b, v == nil, len(v), func(k int) any { return v[k] })
	case orb.Point:
		b.WriteByte('(')
		dumpValue(b, v[0])
		b.WriteByte(' ')
		dumpValue(b, v[1])
		b.WriteByte(')')
	default:
		fmt.Fprintf(b, "%T?", v)
	}
}

func dumpList(b *strings.Builder, isNil bool, n int, at func(int) any) {
	if isNil {
		b.WriteString("nil")
		return
	}
	b.WriteByte('[')
	for k := range n {
		dumpValue(b, at(k))
		b.WriteByte(',')
	}
	b.WriteByte(']')
}

// checkFastMatches reads data with the fast reader, in chunks of several
// sizes, and with the encoding/json reader alone, and fails t unless they
// agree: wherever the fast reader takes the file, its features' grids and
// problems are those of the reference, and ReadGeoJSON's answer is the
// reference's in every case. It returns whether the fast reader took the
// file, and its figures for the smallest chunks.
func checkFastMatches(t testing.TB, data []byte, crs geo.CRS) (bool, fastStats) {
	t.Helper()
	refGS, refErrs, refErr := readFeatureCollection(bytes.NewReader(data), crs)
	want := dumpResult(refGS, refErrs)
	var took bool
	var small fastStats
	for n, size := range []int{fastChunkSize(len(data)), 1, 7, 300} {
		gs, errs, st, ok := readFeatureCollectionFast(data, crs, size)
		if n == 0 {
			took = ok
		} else if ok != took {
			t.Fatalf("chunks of %d bytes: fast reader took the file: %v, with chunks of %d: %v", size, ok, fastChunkSize(len(data)), took)
		}
		if size == 1 {
			small = st
		}
		if !ok {
			continue
		}
		if refErr != nil {
			t.Fatalf("fast reader took a file the reference rejects: %v", refErr)
		}
		if got := dumpResult(gs, errs); got != want {
			t.Fatalf("chunks of %d bytes: fast reader gave\n%s\nreference gave\n%s", size, got, want)
		}
	}

	opt := ImportOptions{CRS: crs}
	gsF, errF := readGeoJSON(bytes.NewReader(data), opt, true)
	gsR, errR := readGeoJSON(bytes.NewReader(data), opt, false)
	if got, want := dumpResult(gsF, nil), dumpResult(gsR, nil); got != want {
		t.Fatalf("ReadGeoJSON gave\n%s\nthe reference gave\n%s", got, want)
	}
	if (gsF == nil) != (gsR == nil) {
		t.Fatalf("ReadGeoJSON gave grids %v, the reference %v", gsF != nil, gsR != nil)
	}
	var ieF, ieR *ImportError
	if errors.As(errF, &ieF) != errors.As(errR, &ieR) || fmt.Sprint(errF) != fmt.Sprint(errR) || !reflect.DeepEqual(ieF, ieR) {
		t.Fatalf("ReadGeoJSON error:\n%v\nthe reference's:\n%v", errF, errR)
	}
	return took, small
}

func (st fastStats) slow() int { return st.slowFeatures + st.slowProperties + st.slowGeometries }

func TestFastReaderFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.geojson"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.geojson"))
	// Files the fast reader leaves to encoding/json, and how many features
	// (or their geometry) it decodes with encoding/json in the others.
	leaves := map[string]bool{"not_json.geojson": true, "not_feature_collection.geojson": true, "no_features.geojson": true}
	slow := map[string]int{"huge_number.geojson": 1, "string_coordinate.geojson": 1}
	for _, name := range append(files, bad...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			took, st := checkFastMatches(t, data, geo.WGS84)
			if took == leaves[filepath.Base(name)] {
				t.Fatalf("fast reader took the file: %v", took)
			}
			if took && st.slow() != slow[filepath.Base(name)] {
				t.Errorf("%+v, want %d decoded by encoding/json", st, slow[filepath.Base(name)])
			}
		})
	}
}

func TestFastReaderCRS(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "tiny.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
		if took, _ := checkFastMatches(t, data, crs); !took {
			t.Errorf("%s: fast reader did not take the file", crs)
		}
	}
}

// A city as WriteGeoJSON writes it is read in many chunks, all in the
// common form.
func TestFastReaderCity(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, syntheticCity(1500, 5)); err != nil {
		t.Fatal(err)
	}
	took, st := checkFastMatches(t, buf.Bytes(), geo.WGS84)
	if !took || st.slow() != 0 || st.chunks < 100 {
		t.Fatalf("took the file %v, %+v; want it all read fast, in many chunks", took, st)
	}
	gs, err := ReadGeoJSON(bytes.NewReader(buf.Bytes()), ImportOptions{})
	if err != nil || len(gs) != 1500+111 {
		t.Fatalf("read %d grids: %v", len(gs), err)
	}

	// Pretty-printed, one member or number a line.
	var indented bytes.Buffer
	if err := json.Indent(&indented, buf.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	took, st = checkFastMatches(t, indented.Bytes(), geo.WGS84)
	if !took || st.slow() != 0 || st.chunks < 100 {
		t.Fatalf("indented: took the file %v, %+v; want it all read fast, in many chunks", took, st)
	}
}

const (
	fastRing     = `[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]`
	fastPolygon  = `{"type":"Polygon","coordinates":[` + fastRing + `]}`
	fastProps    = `{"code":"110101","name":"d","level":"district"}`
	fastDistrict = `{"type":"Feature","properties":` + fastProps + `,"geometry":` + fastPolygon + `}`
)

func fastFC(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + "]}"
}

func fastFeature(props, geometry string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}`
}

// fastGeometry makes a feature of a Polygon of one ring of the given
// positions.
func fastGeometry(positions string) string {
	return fastFeature(fastProps, `{"type":"Polygon","coordinates":[[`+positions+`]]}`)
}

// fastReaderCases are files the fast reader must read as encoding/json
// does. took says whether it takes the file; slow, when not -1, how many
// features, properties or geometries it leaves to encoding/json.
var fastReaderCases = []struct {
	name  string
	input string
	took  bool
	slow  int
}{
	{"plain", fastFC(fastDistrict), true, 0},
	{"empty collection", `{"type":"FeatureCollection","features":[]}`, true, 0},
	{"empty collection with spaces", " \r\n\t{ \"features\" : [ \n ] , \"type\" : \"FeatureCollection\" } \n", true, 0},
	{"whitespace everywhere", " {\n \"type\" :\t\"FeatureCollection\" ,\r\n \"features\" : [ \n" +
		"{ \"type\" : \"Feature\" , \"properties\" : { \"code\" : \"110101\" , \"name\" : \"d\" , \"level\" : \"district\" } ,\n" +
		" \"geometry\" : { \"type\" : \"Polygon\" , \"coordinates\" : [ [ [ 116.40 , 39.90 ] , [ 116.41 ,\t39.90 ] ,\n" +
		"[116.41,39.91], [ 116.40, 39.90 ] ] ] } } \n ] } \n", true, 0},
	{"features first, bbox, foreign members", `{"features":[` + fastDistrict + `],"bbox":[116,39,117,40],"type":"FeatureCollection",` +
		`"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"list":[{"a":1},{"b":2}],"s":"},{"}`, true, 0},
	{"type twice", `{"type":"Feature","features":[` + fastDistrict + `],"type":"FeatureCollection"}`, true, 0},
	{"escaped collection type", `{"type":"FeatureCollectio\u006e","features":[` + fastDistrict + `]}`, true, 0},
	{"unicode", fastFC(fastFeature(`{"code":"110101","name":"示范区😀","level":"district","部门":"城管"}`, fastPolygon)), true, 0},
	{"escaped strings", fastFC(fastFeature(`{"code":"110101","name":"a\"b\\c\u00e9\n\/","level":"district","x":"\ud83d\ude00"}`, fastPolygon)), true, 1},
	{"lone surrogate", fastFC(fastFeature(`{"code":"110101","name":"\ud800","level":"district"}`, fastPolygon)), true, 1},
	{"invalid UTF-8 in a name", fastFC(fastFeature("{\"code\":\"110101\",\"name\":\"a\xffb\xed\xa0\x80\",\"level\":\"district\"}", fastPolygon)), true, 1},
	{"invalid UTF-8 in a key", fastFC(fastFeature("{\"code\":\"110101\",\"name\":\"d\",\"level\":\"district\",\"\xc3\":1}", fastPolygon)), true, 1},
	{"nested properties", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","manager":{"name":"x","phones":[1,2.5,{"a":null}],"on":true,"off":false},"tags":[],"o":{}}`, fastPolygon)), true, 0},
	{"duplicate property", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","name":"e","n":1,"n":{"a":1}}`, fastPolygon)), true, 0},
	{"property numbers", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","a":-0,"b":1e308,"c":1E-320,"d":123456789012345678901234567890,"e":0.1e-5,"f":-12.5e+3}`, fastPolygon)), true, 0},
	{"property number too big", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","a":1e400}`, fastPolygon)), true, 1},
	{"reserved properties of the wrong kind", fastFC(fastFeature(`{"code":110101,"name":["d"],"level":null,"parent":{},"department":true}`, fastPolygon)), true, 0},
	{"properties not an object", fastFC(fastFeature(`[1]`, fastPolygon), fastFeature(`"x"`, fastPolygon), fastFeature(`5`, fastPolygon), fastFeature(`null`, fastPolygon)), true, 3},
	{"exponents", fastFC(fastGeometry(`[1.1640E2,3.990e1],[11641e-2,0.0399E3],[116.41,39.91],[1.164e+2,39.9]`)), true, 0},
	{"long mantissas", fastFC(fastGeometry(`[116.400000000000000000001,39.9000000000000000000000001],[116.41000000000000001,39.90],[116.41,39.91],[116.40,39.90]`)), true, 0},
	{"integers and negative zero", fastFC(fastGeometry(`[0,0],[1,0],[1,1],[-0,0]`), fastGeometry(`[-0.0,-0],[-1,-0],[-1,-1],[0,0]`)), true, 0},
	{"tiny numbers", fastFC(fastGeometry(`[1e-400,0],[1,0],[1,1],[0,0]`)), true, -1},
	{"3D positions", fastFC(fastGeometry(`[116.40,39.90,50],[116.41,39.90,1e400],[116.41,39.91,-3.5,7],[116.40,39.90,0]`)), true, 0},
	{"position with a string", fastFC(fastGeometry(`[116.40,39.90,"x"],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), true, 1},
	{"short positions", fastFC(fastGeometry(`[116.40],[116.41,39.90],[],[116.40,39.90]`)), true, 1},
	{"null position", fastFC(fastGeometry(`[116.40,39.90],null,[116.41,39.91],[116.40,39.90]`)), true, 1},
	{"null ring", fastFC(fastFeature(fastProps, `{"type":"Polygon","coordinates":[null]}`)), true, 1},
	{"coordinate too big", fastFC(fastGeometry(`[1e400,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), true, 1},
	{"coordinate a string", fastFC(fastGeometry(`["116.40",39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), true, 1},
	{"coordinates too deep", fastFC(fastFeature(fastProps, `{"type":"Polygon","coordinates":[[`+fastRing+`]]}`)), true, 1},
	{"coordinates not deep enough", fastFC(fastFeature(fastProps, `{"type":"MultiPolygon","coordinates":[`+fastRing+`]}`)), true, 1},
	{"coordinates before type", fastFC(fastFeature(fastProps, `{"coordinates":[`+fastRing+`],"type":"Polygon"}`)), true, 0},
	{"multipolygon with holes", fastFC(fastFeature(fastProps, `{"type":"MultiPolygon","coordinates":[[`+
		`[[116.40,39.90],[116.44,39.90],[116.44,39.92],[116.40,39.92],[116.40,39.90]],`+
		`[[116.405,39.905],[116.405,39.915],[116.415,39.915],[116.415,39.905],[116.405,39.905]]],`+
		`[[[117.40,39.90],[117.41,39.90],[117.41,39.91],[117.40,39.90]]]]}`)), true, 0},
	{"empty coordinates", fastFC(fastFeature(fastProps, `{"type":"Polygon","coordinates":[]}`), fastFeature(fastProps, `{"type":"MultiPolygon","coordinates":[]}`),
		fastFeature(fastProps, `{"type":"MultiPolygon","coordinates":[[]]}`), fastFeature(fastProps, `{"type":"MultiPolygon","coordinates":[[[]]]}`),
		fastFeature(fastProps, `{"type":"Polygon","coordinates":[[],[]]}`), fastFeature(fastProps, `{"type":"Polygon","coordinates":null}`),
		fastFeature(fastProps, `{"type":"Polygon"}`), fastFeature(fastProps, `{}`)), true, 0},
	{"other geometries", fastFC(fastFeature(fastProps, `{"type":"Point","coordinates":[1,2]}`), fastFeature(fastProps, `{"type":"LineString","coordinates":[[1,2],[3,4]]}`),
		fastFeature(fastProps, `{"type":"GeometryCollection","geometries":[`+fastPolygon+`]}`), fastFeature(fastProps, `{"type":"Circle","coordinates":[1,2]}`),
		fastFeature(fastProps, `{"type":5,"coordinates":[]}`), fastFeature(fastProps, `{"coordinates":[[1,2]]}`),
		fastFeature(fastProps, `{"type":"Pol\u0079gon","coordinates":[`+fastRing+`]}`), fastFeature(fastProps, `{"type":"polygon","coordinates":[`+fastRing+`]}`)), true, 0},
	{"null geometry and missing members", fastFC(fastFeature(fastProps, `null`), `{"type":"Feature","properties":`+fastProps+`}`, `{"properties":null}`, `{}`), true, 0},
	{"foreign members", fastFC(`{"id":5,"type":"Feature","bbox":[1,2,3,4],"extra":{"geometry":1,"type":2},"properties":` + fastProps +
		`,"geometry":{"bbox":[1,2],"type":"Polygon","coordinates":[` + fastRing + `],"crs":null,"geometries":[1]},"title":"x"}`), true, 0},
	{"feature type", fastFC(`{"type":"Feat","properties":`+fastProps+`,"geometry":`+fastPolygon+`}`, `{"type":null,"properties":`+fastProps+`}`,
		`{"type":"Featur\u0065","properties":`+fastProps+`,"geometry":`+fastPolygon+`}`), true, 0},
	{"feature kinds", fastFC(`5`, `"x"`, `[1]`, `null`, `true`, `[]`), true, 6},
	{"geometry kinds", fastFC(fastFeature(fastProps, `"x"`), fastFeature(fastProps, `5`), fastFeature(fastProps, `[1]`), fastFeature(fastProps, `true`)), true, 4},
	{"member names in other cases", fastFC(`{"Type":"Feature","PROPERTIES":`+fastProps+`,"Geometry":`+fastPolygon+`}`,
		fastFeature(fastProps, `{"TYPE":"Polygon","Coordinates":[`+fastRing+`]}`)), true, 2},
	{"folded member name", fastFC(`{"type":"Feature","propertieſ":` + fastProps + `,"geometry":` + fastPolygon + `}`), true, 1},
	{"escaped member name", fastFC(`{"type":"Feature","\u0070roperties":` + fastProps + `,"geometry":` + fastPolygon + `}`), true, 1},
	{"duplicate members", fastFC(`{"type":"Feature","properties":`+fastProps+`,"properties":{"code":"110102"},"geometry":`+fastPolygon+`}`,
		`{"type":"Feature","properties":`+fastProps+`,"geometry":`+fastPolygon+`,"geometry":{"type":"Point"}}`,
		`{"type":"Feature","properties":`+fastProps+`,"geometry":`+fastPolygon+`,"geometry":null}`,
		fastFeature(fastProps, `{"type":"Polygon","coordinates":[`+fastRing+`],"type":"Point"}`)), true, 4},
	{"things that look like feature boundaries", fastFC(
		fastFeature(`{"code":"110101","name":"},{\"type\":\"Feature\"","level":"district","l":[{"a":1},{"b":[{"c":2}, {"d":3}]},{}]}`, fastPolygon),
		fastFeature(`{"code":"110101001","name":"s","level":"street","parent":"110101","x":"}, {"}`, fastPolygon)), true, 1},
	{"deep properties", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","deep":`+strings.Repeat(`[`, 600)+strings.Repeat(`]`, 600)+`}`, fastPolygon)), true, 0},
	{"too deep properties", fastFC(fastFeature(`{"code":"110101","name":"d","level":"district","deep":`+strings.Repeat(`{"a":`, 2000)+`1`+strings.Repeat(`}`, 2000)+`}`, fastPolygon)), false, -1},
	{"too deep foreign member", `{"type":"FeatureCollection","features":[],"x":` + strings.Repeat(`[`, 1500) + strings.Repeat(`]`, 1500) + `}`, false, -1},
	{"beyond encoding/json's depth", fastFC(fastFeature(fastProps, strings.Repeat(`[`, 10001)+strings.Repeat(`]`, 10001))), false, -1},

	// Files the fast reader leaves to encoding/json.
	{"empty", ``, false, -1},
	{"only spaces", " \n", false, -1},
	{"byte order mark", "\xef\xbb\xbf" + fastFC(fastDistrict), false, -1},
	{"array at the top", `[` + fastDistrict + `]`, false, -1},
	{"string at the top", `"FeatureCollection"`, false, -1},
	{"no type", `{"features":[` + fastDistrict + `]}`, false, -1},
	{"a feature", fastDistrict, false, -1},
	{"type a number", `{"type":5,"features":[]}`, false, -1},
	{"no features", `{"type":"FeatureCollection"}`, false, -1},
	{"features twice", `{"type":"FeatureCollection","features":[],"features":[]}`, false, -1},
	{"features not an array", `{"type":"FeatureCollection","features":{}}`, false, -1},
	{"features null", `{"type":"FeatureCollection","features":null}`, false, -1},
	{"escaped features key", `{"type":"FeatureCollection","f\u0065atures":[` + fastDistrict + `]}`, false, -1},
	{"trailing data", fastFC(fastDistrict) + ` x`, false, -1},
	{"second value", fastFC(fastDistrict) + ` {}`, false, -1},
	{"unclosed", strings.TrimSuffix(fastFC(fastDistrict), "}"), false, -1},
	{"unclosed features", `{"type":"FeatureCollection","features":[` + fastDistrict, false, -1},
	{"unclosed feature", `{"type":"FeatureCollection","features":[` + strings.TrimSuffix(fastDistrict, "}") + `]}`, false, -1},
	{"trailing comma in features", `{"type":"FeatureCollection","features":[` + fastDistrict + `,]}`, false, -1},
	{"missing comma between features", `{"type":"FeatureCollection","features":[` + fastDistrict + ` ` + fastDistrict + `]}`, false, -1},
	{"trailing comma in properties", fastFC(fastFeature(`{"code":"110101",}`, fastPolygon)), false, -1},
	{"missing colon", fastFC(fastFeature(`{"code" "110101"}`, fastPolygon)), false, -1},
	{"key not a string", fastFC(fastFeature(`{code:"110101"}`, fastPolygon)), false, -1},
	{"raw tab in a string", fastFC(fastFeature("{\"code\":\"1101\t01\"}", fastPolygon)), false, -1},
	{"raw newline in a key", fastFC(fastFeature("{\"co\nde\":\"110101\"}", fastPolygon)), false, -1},
	{"bad escape", fastFC(fastFeature(`{"code":"\x"}`, fastPolygon)), false, -1},
	{"bad unicode escape", fastFC(fastFeature(`{"code":"\u12G4"}`, fastPolygon)), false, -1},
	{"short unicode escape", fastFC(fastFeature(`{"code":"\u12"}`, fastPolygon)), false, -1},
	{"bad literal", fastFC(fastFeature(`{"code":nul}`, fastPolygon)), false, -1},
	{"literal run on", fastFC(fastFeature(`{"code":truex}`, fastPolygon)), false, -1},
	{"bad geometry literal", fastFC(fastFeature(fastProps, `nulls`)), false, -1},
	{"garbage after a feature", `{"type":"FeatureCollection","features":[` + fastDistrict + ` x]}`, false, -1},
	{"bad JSON in a foreign member", `{"type":"FeatureCollection","x":[1,],"features":[` + fastDistrict + `]}`, false, -1},
	{"leading zero", fastFC(fastGeometry(`[0116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"bare point", fastFC(fastGeometry(`[116.,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"leading point", fastFC(fastGeometry(`[.5,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"plus sign", fastFC(fastGeometry(`[+116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"bare minus", fastFC(fastGeometry(`[-,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"empty exponent", fastFC(fastGeometry(`[1e,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"signed empty exponent", fastFC(fastGeometry(`[1e+,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"NaN", fastFC(fastGeometry(`[NaN,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"hex", fastFC(fastGeometry(`[0x10,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"bad third number", fastFC(fastGeometry(`[116.40,39.90,01],[116.41,39.90],[116.41,39.91],[116.40,39.90]`)), false, -1},
	{"bad number in properties", fastFC(fastFeature(`{"code":"110101","n":1.}`, fastPolygon)), false, -1},
}

func TestFastReaderCases(t *testing.T) {
	for _, tt := range fastReaderCases {
		t.Run(tt.name, func(t *testing.T) {
			took, st := checkFastMatches(t, []byte(tt.input), geo.WGS84)
			if took != tt.took {
				t.Fatalf("fast reader took the file: %v, want %v", took, tt.took)
			}
			if tt.took && tt.slow >= 0 && st.slow() != tt.slow {
				t.Errorf("%+v, want %d decoded by encoding/json", st, tt.slow)
			}
		})
	}
}

// Chunks that start inside a feature, or end where no chunk starts, are
// read again from a feature's start.
func TestFastReaderRereads(t *testing.T) {
	nested := fastFeature(`{"code":"110101","name":"d","level":"district","l":[{"a":1},{"b":2},{"c":"},{"}]}`, fastPolygon)
	data := []byte(fastFC(nested, `5`, fastDistrict, `null`, nested, fastDistrict, `[]`, fastDistrict))
	took, st := checkFastMatches(t, data, geo.WGS84)
	if !took || st.rereads == 0 || st.slowFeatures != 3 {
		t.Fatalf("took the file %v, %+v; want some chunks read again", took, st)
	}
	// The last guess is inside a feature, and no chunk starts after it.
	took, st = checkFastMatches(t, []byte(fastFC(nested, `5`, `6`)), geo.WGS84)
	if !took || st.rereads == 0 || st.slowFeatures != 2 {
		t.Fatalf("took the file %v, %+v; want a chunk read again", took, st)
	}
}

// A reader that fails part way gives the error encoding/json gives for it.
func TestFastReaderReadError(t *testing.T) {
	data := []byte(fastFC(fastDistrict, fastDistrict))
	for _, n := range []int{0, 1, 30, len(data) / 2, len(data) - 1, len(data)} {
		for _, fail := range []error{errors.New("disk on fire"), io.ErrUnexpectedEOF} {
			r := func() io.Reader { return io.MultiReader(bytes.NewReader(data[:n]), errorReader{fail}) }
			gsF, errF := readGeoJSON(r(), ImportOptions{}, true)
			gsR, errR := readGeoJSON(r(), ImportOptions{}, false)
			if errF == nil || gsF != nil || gsR != nil || fmt.Sprint(errF) != fmt.Sprint(errR) {
				t.Errorf("after %d bytes, %v: error %v, the reference's %v", n, fail, errF, errR)
			}
		}
	}
}

// jsonParseNumber must give strconv.ParseFloat's float64, bit for bit, for
// every JSON number, and take nothing that is not one.
func TestParseNumber(t *testing.T) {
	check := func(s string) {
		t.Helper()
		f, end, ok := jsonParseNumber([]byte(s), 0)
		skipEnd, skipOK := jsonSkipNumber([]byte(s), 0)
		valid := json.Valid([]byte(s)) && s != "" && (s[0] == '-' || isJSONDigit(s[0]))
		if valid != (skipOK && skipEnd == len(s)) {
			t.Fatalf("jsonSkipNumber(%q) = %d, %v; valid JSON number: %v", s, skipEnd, skipOK, valid)
		}
		if !valid {
			if ok && end == len(s) {
				t.Fatalf("jsonParseNumber(%q) took it whole, but it is not a JSON number", s)
			}
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) || ok && end != len(s) {
			t.Fatalf("jsonParseNumber(%q) = %v, %d, %v; strconv: %v", s, f, end, ok, err)
		}
		if ok && math.Float64bits(f) != math.Float64bits(want) {
			t.Fatalf("jsonParseNumber(%q) = %v (%#x), strconv %v (%#x)", s, f, math.Float64bits(f), want, math.Float64bits(want))
		}
	}
	for _, s := range []string{
		"0", "-0", "0.0", "-0.0", "1", "-1", "9007199254740991", "9007199254740992", "9007199254740993",
		"18446744073709551615", "18446744073709551616", "1234567890123456789", "12345678901234567890",
		"0.1", "0.3", "116.3679901", "39.6968898", "-179.9999999", "1e22", "1e23", "1e-22", "1e-23",
		"123456789012345e-22", "0.0000000000000000000001", "4.9e-324", "2.5e-324", "1e-400", "1e400", "-1e400",
		"1.7976931348623157e308", "1.7976931348623159e308", "0e999999", "0.000e-99999", "1E5", "1e+5", "1e-5",
		"00", "01", "-01", "1.", ".1", "-", "+1", "1e", "1e+", "1e-", "1.e5", "--1", "1x", "0x1", "1_0", "",
		"116.36799010000000000000000001", "3.14159265358979323846264338327950288",
	} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for range 200000 {
		var s string
		if rng.IntN(2) == 0 {
			s = "-"
		}
		ip := digits(1 + rng.IntN(12))
		if rng.IntN(10) > 0 {
			ip = strings.TrimLeft(ip, "0")
			if ip == "" {
				ip = "0"
			}
		}
		s += ip
		if rng.IntN(5) > 0 {
			s += "." + digits(rng.IntN(20))
		}
		if rng.IntN(4) == 0 {
			s += []string{"e", "E", "e+", "e-"}[rng.IntN(4)] + strconv.Itoa(rng.IntN(40))
			if rng.IntN(50) == 0 {
				s += digits(3)
			}
		}
		check(s)
	}
}

// jsonDecodeObject must give what encoding/json gives for a map.
func TestDecodeObject(t *testing.T) {
	for _, s := range []string{
		`{}`, ` {} `, `{"a":1}`, `{"a":"x","a":"y"}`, `{"a":[],"b":{},"c":[{}],"d":null}`,
		`{"a":[1,"2",true,false,null,{"b":[-0.5e3]}]}`, `{"名":"值"}`, `{"a":"\u00e9"}`, `{"\u0061":1}`,
		"{\"a\":\"\xff\"}", `{"a":1e400}`, `{"a":01}`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":[1,]}`,
	} {
		var want map[string]any
		wantErr := json.Unmarshal([]byte(s), &want)
		i := jsonSkipSpace([]byte(s), 0)
		got, end, ok := jsonDecodeObject([]byte(s), i, 0)
		if ok && jsonSkipSpace([]byte(s), end) != len(s) {
			ok = false
		}
		if ok && wantErr != nil {
			t.Errorf("%s: jsonDecodeObject took it; encoding/json: %v", s, wantErr)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: jsonDecodeObject gave %#v, encoding/json %#v", s, got, want)
		}
	}
}

// FuzzFastReader: whatever the bytes, the fast reader either leaves them
// to encoding/json or reads them exactly as it does.
func FuzzFastReader(f *testing.F) {
	for _, tt := range fastReaderCases {
		f.Add([]byte(tt.input))
	}
	addGeoJSONSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastMatches(t, data, geo.WGS84)
	})
}
