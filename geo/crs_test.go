package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseCRS(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    CRS
		wantErr bool
	}{
		{name: "empty is wgs84", in: "", want: WGS84},
		{name: "wgs84", in: "wgs84", want: WGS84},
		{name: "upper case", in: "GCJ02", want: GCJ02},
		{name: "mixed case", in: "Bd09", want: BD09},
		{name: "surrounding space", in: " gcj02 ", want: GCJ02},
		{name: "unknown", in: "epsg:4326", wantErr: true},
		{name: "dash spelling", in: "gcj-02", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCRS(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCRS(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseCRS(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Published forward vectors. The eviltransform pairs come from
// github.com/googollee/eviltransform (go/transform_test.go, given there as
// lat, lng); the coordtransform ones from the README of
// github.com/wandergis/coordtransform.
var forwardVectors = []struct {
	name     string
	from, to CRS
	in, want orb.Point
}{
	{name: "eviltransform shanghai", from: WGS84, to: GCJ02,
		in: orb.Point{121.5272106, 31.1774276}, want: orb.Point{121.531541859215, 31.17530398364597}},
	{name: "eviltransform shenzhen", from: WGS84, to: GCJ02,
		in: orb.Point{113.912316, 22.543847}, want: orb.Point{113.9171764808363, 22.540796131694766}},
	{name: "eviltransform beijing", from: WGS84, to: GCJ02,
		in: orb.Point{116.377817, 39.911954}, want: orb.Point{116.38404722455657, 39.91334545536069}},
	{name: "coordtransform wgs84togcj02", from: WGS84, to: GCJ02,
		in: orb.Point{116.404, 39.915}, want: orb.Point{116.41024449916938, 39.91640428150164}},
	{name: "coordtransform gcj02tobd09", from: GCJ02, to: BD09,
		in: orb.Point{116.404, 39.915}, want: orb.Point{116.41036949371029, 39.92133699351021}},
}

func convert(from, to CRS, p orb.Point) orb.Point {
	var lon, lat float64
	switch {
	case from == WGS84 && to == GCJ02:
		lon, lat = WGS84ToGCJ02(p[0], p[1])
	case from == GCJ02 && to == WGS84:
		lon, lat = GCJ02ToWGS84(p[0], p[1])
	case from == GCJ02 && to == BD09:
		lon, lat = GCJ02ToBD09(p[0], p[1])
	case from == BD09 && to == GCJ02:
		lon, lat = BD09ToGCJ02(p[0], p[1])
	case from == WGS84 && to == BD09:
		lon, lat = WGS84ToBD09(p[0], p[1])
	case from == BD09 && to == WGS84:
		lon, lat = BD09ToWGS84(p[0], p[1])
	default:
		panic("unsupported pair " + string(from) + "→" + string(to))
	}
	return orb.Point{lon, lat}
}

func TestForwardVectors(t *testing.T) {
	for _, tt := range forwardVectors {
		t.Run(tt.name, func(t *testing.T) {
			got := convert(tt.from, tt.to, tt.in)
			if math.Abs(got[0]-tt.want[0]) > 1e-9 || math.Abs(got[1]-tt.want[1]) > 1e-9 {
				t.Errorf("%s→%s %v = %v, want %v", tt.from, tt.to, tt.in, got, tt.want)
			}
		})
	}
}

// The inverse of each published forward vector must land back on its input.
func TestInverseVectors(t *testing.T) {
	for _, tt := range forwardVectors {
		t.Run(tt.name, func(t *testing.T) {
			got := convert(tt.to, tt.from, tt.want)
			if d := Haversine(got, tt.in); d > 0.01 {
				t.Errorf("%s→%s %v = %v, %.4f m from %v", tt.to, tt.from, tt.want, got, d, tt.in)
			}
		})
	}
}

// coordtransform's bd09togcj02 is a closed-form approximation, so the exact
// inverse only has to agree with it to well under a metre.
func TestBD09ToGCJ02AgreesWithClosedForm(t *testing.T) {
	got := convert(BD09, GCJ02, orb.Point{116.404, 39.915})
	want := orb.Point{116.39762729119315, 39.90865673957631} // wandergis/coordtransform README
	if d := Haversine(got, want); d > 0.5 {
		t.Errorf("BD09ToGCJ02 = %v, %.3f m from the published %v", got, d, want)
	}
}

func TestRoundTripInChina(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	for _, c := range []CRS{GCJ02, BD09} {
		var worst float64
		for range n {
			// Stay a little inside the box so the shifted point is inside too.
			w := orb.Point{73 + rng.Float64()*63, 2 + rng.Float64()*52.5}
			lon, lat := FromWGS84(c, w[0], w[1])
			back := orb.Point{}
			back[0], back[1] = ToWGS84(c, lon, lat)
			d := Haversine(w, back)
			worst = math.Max(worst, d)
			if d >= 0.01 {
				t.Fatalf("%s: %v → (%v, %v) → %v is %.4f m off", c, w, lon, lat, back, d)
			}
			// And the other way: a point read in c, stored, served back in c.
			g := orb.Point{lon, lat}
			wl, wa := ToWGS84(c, g[0], g[1])
			gl, ga := FromWGS84(c, wl, wa)
			if d := Haversine(g, orb.Point{gl, ga}); d >= 0.01 {
				t.Fatalf("%s: %v → WGS84 → %v is %.4f m off", c, g, orb.Point{gl, ga}, d)
			}
		}
		t.Logf("%s: worst round trip over %d points %.2e m", c, n, worst)
	}
}

func TestOutsideChinaIsIdentity(t *testing.T) {
	funcs := []struct {
		name string
		f    func(lon, lat float64) (float64, float64)
	}{
		{"WGS84ToGCJ02", WGS84ToGCJ02}, {"GCJ02ToWGS84", GCJ02ToWGS84},
		{"GCJ02ToBD09", GCJ02ToBD09}, {"BD09ToGCJ02", BD09ToGCJ02},
		{"WGS84ToBD09", WGS84ToBD09}, {"BD09ToWGS84", BD09ToWGS84},
	}
	points := []struct {
		name     string
		lon, lat float64
	}{
		{name: "null island", lon: 0, lat: 0},
		{name: "san francisco", lon: -122.4194, lat: 37.7749},
		{name: "tokyo east of the box", lon: 139.6917, lat: 35.6895},
		{name: "north of the box", lon: 100, lat: 60},
		{name: "south of the box", lon: 110, lat: 0.5},
		{name: "west of the box", lon: 70, lat: 39},
		{name: "huge", lon: 1e300, lat: -1e300},
		{name: "infinite", lon: math.Inf(1), lat: math.Inf(-1)},
	}
	for _, p := range points {
		if InChinaBox(p.lon, p.lat) {
			t.Fatalf("%s: test point is inside the box", p.name)
		}
		for _, fn := range funcs {
			lon, lat := fn.f(p.lon, p.lat)
			if lon != p.lon || lat != p.lat {
				t.Errorf("%s(%s) = (%v, %v), want the input", fn.name, p.name, lon, lat)
			}
		}
	}
	// NaN is outside too and comes back as NaN.
	for _, fn := range funcs {
		if lon, lat := fn.f(math.NaN(), 30); !math.IsNaN(lon) || lat != 30 {
			t.Errorf("%s(NaN, 30) = (%v, %v)", fn.name, lon, lat)
		}
	}
}

func TestUnknownCRSIsIdentity(t *testing.T) {
	for _, c := range []CRS{WGS84, "", "epsg:3857"} {
		if lon, lat := ToWGS84(c, 116.4, 39.9); lon != 116.4 || lat != 39.9 {
			t.Errorf("ToWGS84(%q) moved the point to (%v, %v)", c, lon, lat)
		}
		if lon, lat := FromWGS84(c, 116.4, 39.9); lon != 116.4 || lat != 39.9 {
			t.Errorf("FromWGS84(%q) moved the point to (%v, %v)", c, lon, lat)
		}
	}
}

func TestInChinaBox(t *testing.T) {
	tests := []struct {
		name     string
		lon, lat float64
		want     bool
	}{
		{name: "beijing", lon: 116.4, lat: 39.9, want: true},
		{name: "min corner", lon: 72.004, lat: 0.8293, want: true},
		{name: "max corner", lon: 137.8347, lat: 55.8271, want: true},
		{name: "just west", lon: 72.0039, lat: 30, want: false},
		{name: "just north", lon: 100, lat: 55.8272, want: false},
		{name: "nan", lon: math.NaN(), lat: 30, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InChinaBox(tt.lon, tt.lat); got != tt.want {
				t.Errorf("InChinaBox(%v, %v) = %v, want %v", tt.lon, tt.lat, got, tt.want)
			}
		})
	}
}

func FuzzGCJ02RoundTrip(f *testing.F) {
	for _, v := range forwardVectors {
		f.Add(v.in[0], v.in[1])
	}
	f.Add(105.0, 35.0) // the origin of the offset polynomial, where √|x| is steep
	f.Add(72.004, 0.8293)
	f.Add(137.8347, 55.8271)
	f.Add(-1e308, 1e308)
	f.Fuzz(func(t *testing.T, lon, lat float64) {
		if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
			return // no coordinate to transform
		}
		finite := func(name string, x, y float64) {
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
				t.Fatalf("%s(%v, %v) = (%v, %v)", name, lon, lat, x, y)
			}
		}
		gl, ga := WGS84ToGCJ02(lon, lat)
		finite("WGS84ToGCJ02", gl, ga)
		wl, wa := GCJ02ToWGS84(lon, lat)
		finite("GCJ02ToWGS84", wl, wa)
		bl, ba := WGS84ToBD09(lon, lat)
		finite("WGS84ToBD09", bl, ba)
		xl, xa := BD09ToWGS84(lon, lat)
		finite("BD09ToWGS84", xl, xa)

		// The round trip holds wherever both ends are in the box; at its
		// edge one end may fall outside, where the transform stops.
		if InChinaBox(lon, lat) && InChinaBox(gl, ga) {
			bl, ba := GCJ02ToWGS84(gl, ga)
			if d := Haversine(orb.Point{lon, lat}, orb.Point{bl, ba}); d >= 0.01 {
				t.Fatalf("(%v, %v) → GCJ02 → (%v, %v) is %.4f m off", lon, lat, bl, ba, d)
			}
		}
		if InChinaBox(lon, lat) && InChinaBox(wl, wa) {
			gl, ga := WGS84ToGCJ02(wl, wa)
			if d := Haversine(orb.Point{lon, lat}, orb.Point{gl, ga}); d >= 0.01 {
				t.Fatalf("(%v, %v) → WGS84 → (%v, %v) is %.4f m off", lon, lat, gl, ga, d)
			}
		}
	})
}
