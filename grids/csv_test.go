package grids

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseFloatMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "116.3974123", "-180", "180.0", "39.9", "0.000001", "007.5",
		"1e3", "+5", "1.2.3", "abc", "-", ".", "-.5", ".5", "5.", "123456789012345.6",
		"0.1234567890123456789", "NaN", "Inf", " 1", "1_0"}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100000; i++ {
		x := (rng.Float64()*2 - 1) * 180
		cases = append(cases, strconv.FormatFloat(x, 'f', rng.IntN(16), 64))
	}
	for _, s := range cases {
		want, werr := strconv.ParseFloat(s, 64)
		got, gerr := parseFloat([]byte(s))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: error %v, strconv says %v", s, gerr, werr)
		}
		if werr == nil && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("%q: got %v (%x), strconv %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"116.3974123", "-0.5", "1e5", "", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := strconv.ParseFloat(s, 64)
		got, gerr := parseFloat([]byte(s))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: error %v, strconv says %v", s, gerr, werr)
		}
		if werr == nil && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("%q: got %v, strconv %v", s, got, want)
		}
	})
}

func TestGeocodeCSV(t *testing.T) {
	set := latticeCity(4, 4, 3)
	ix, err := NewIndex(set, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		"id,lon,lat",
		"a,116.1,39.1",
		"b,115.99995,39.1",
		"c,abc,39.1",
		"d,116.1",
		"e,200,39.1",
		`"f,1",116.2,39.2`,
		"g,116.1,39.1,extra",
		"",
		"h,NaN,39",
		"i,100,20",
	}, "\n")
	var out, errs bytes.Buffer
	st, err := GeocodeCSV(strings.NewReader(in), &out, &errs, ix, CSVOptions{SnapM: 10})
	if err != nil {
		t.Fatal(err)
	}
	code := func(lon, lat float64) string { return ix.LocateCode(lon, lat) }
	snapped := ix.Locate(115.99995, 39.1, 10).Grid.Code
	want := strings.Join([]string{
		"a," + code(116.1, 39.1) + ",inside",
		"b," + snapped + ",snapped",
		"c,,invalid",
		"d,,invalid",
		"e,,invalid",
		`"f,1",` + code(116.2, 39.2) + ",inside",
		"g,,invalid",
		"h,,invalid",
		"i,,unassigned",
	}, "\n") + "\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, line := range []string{"line 4:", "line 5:", "line 6:", "line 8:", "line 10:"} {
		if !strings.Contains(errs.String(), line) {
			t.Errorf("stderr lacks %q:\n%s", line, errs.String())
		}
	}
	if st.Rows != 9 || st.Invalid != 5 || st.Inside != 2 || st.Snapped != 1 || st.Unassigned != 1 {
		t.Fatalf("stats %+v", st)
	}
}
