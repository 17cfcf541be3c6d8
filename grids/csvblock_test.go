package grids

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gridd/gridd/geo"
)

// referenceGeocodeCSV is GeocodeCSV written the plain way: one line at a
// time through the general parser and Locate. The block pipeline and its
// fast row parser must give the same output, errors and counts.
func referenceGeocodeCSV(in string, ix *Index, opt CSVOptions, maxLine int) (string, string, CSVStats) {
	var out, errs strings.Builder
	var st CSVStats
	lines := strings.Split(in, "\n")
	if strings.HasSuffix(in, "\n") {
		lines = lines[:len(lines)-1]
	}
	for n, s := range lines {
		line := n + 1
		raw := []byte(s)
		if len(raw) > maxLine {
			fmt.Fprintf(&errs, "line %d: longer than %d bytes\n", line, maxLine)
			out.WriteString(",,invalid\n")
			st.Rows++
			st.Invalid++
			continue
		}
		raw = bytes.TrimRight(raw, "\r\n")
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		id, lonF, latF, err := splitRow(raw)
		if err == nil && line == 1 && isHeader(lonF, latF) {
			continue
		}
		var lon, lat float64
		if err == nil {
			lon, lat, err = parseLonLat(lonF, latF)
		}
		st.Rows++
		out.Write(appendCSVField(nil, id))
		if err != nil {
			fmt.Fprintf(&errs, "line %d: %v\n", line, err)
			out.WriteString(",,invalid\n")
			st.Invalid++
			continue
		}
		lon, lat = geo.ToWGS84(opt.CRS, lon, lat)
		switch m := ix.Locate(lon, lat, opt.SnapM); m.Status {
		case Inside:
			st.Inside++
			out.WriteString("," + m.Grid.Code + ",inside\n")
		case Snapped:
			st.Snapped++
			out.WriteString("," + m.Grid.Code + ",snapped\n")
		default:
			st.Unassigned++
			out.WriteString(",,unassigned\n")
		}
	}
	return out.String(), errs.String(), st
}

// csvTestInput makes n rows of every kind GeocodeCSV meets: plain rows
// inside, outside and near the city, numbers of every length, negative
// zero, quoted ids, spaces, CRLF, blank lines, junk, too few and too many
// fields, out-of-range and non-finite numbers, and lines over the limit.
func csvTestInput(rng *rand.Rand, n, maxLine int) string {
	var b strings.Builder
	if rng.IntN(2) == 0 {
		b.WriteString("id,lon,lat\n")
	}
	num := func(lo, hi float64) string {
		x := lo + rng.Float64()*(hi-lo)
		switch rng.IntN(6) {
		case 0:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case 1:
			return strconv.FormatFloat(x, 'e', rng.IntN(10), 64)
		default:
			return strconv.FormatFloat(x, 'f', rng.IntN(18), 64)
		}
	}
	for i := 0; i < n; i++ {
		id := strconv.Itoa(i)
		lon, lat := num(115.9, 116.35), num(38.9, 39.35)
		switch k := rng.IntN(40); {
		case k < 22:
			fmt.Fprintf(&b, "%s,%s,%s\n", id, lon, lat)
		case k == 22:
			fmt.Fprintf(&b, "\"%s,x\",%s,%s\n", id, lon, lat)
		case k == 23:
			fmt.Fprintf(&b, "%s, %s ,%s\n", id, lon, lat)
		case k == 24:
			fmt.Fprintf(&b, "%s,%s,%s\r\n", id, lon, lat)
		case k == 25:
			b.WriteString("\n")
		case k == 26:
			b.WriteString("   \r\n")
		case k == 27:
			fmt.Fprintf(&b, "%s,%s\n", id, lon)
		case k == 28:
			fmt.Fprintf(&b, "%s,%s,%s,%s\n", id, lon, lat, lat)
		case k == 29:
			fmt.Fprintf(&b, "%s,abc,%s\n", id, lat)
		case k == 30:
			fmt.Fprintf(&b, "%s,%s,NaN\n", id, lon)
		case k == 31:
			fmt.Fprintf(&b, "%s,-%s,%s\n", id, lon, lat)
		case k == 32:
			fmt.Fprintf(&b, "%s,%s,9%s\n", id, lon, lat)
		case k == 33:
			fmt.Fprintf(&b, "%s,-0,-0.0\n", id)
		case k == 34:
			fmt.Fprintf(&b, "%s,%s,%s\n", strings.Repeat("i", maxLine), lon, lat)
		case k == 35:
			fmt.Fprintf(&b, "%s,.5,5.\n", id)
		case k == 36:
			fmt.Fprintf(&b, "%s,1160000000000000.25,39\n", id)
		case k == 37:
			fmt.Fprintf(&b, "%s,%s,%s\r\r\n", id, lon, lat)
		case k == 38:
			fmt.Fprintf(&b, "%s,+%s,%s\n", id, lon, lat)
		default:
			fmt.Fprintf(&b, ",%s,%s\n", lon, lat)
		}
	}
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "last,%s,%s", num(116, 116.25), num(39, 39.25))
	}
	return b.String()
}

func TestGeocodeCSVBlocksMatchReference(t *testing.T) {
	ix, err := NewIndex(latticeCity(4, 4, 3), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for trial := 0; trial < 60; trial++ {
		maxLine := 40 + rng.IntN(100)
		in := csvTestInput(rng, 50+rng.IntN(3000), maxLine)
		opt := CSVOptions{SnapM: float64(rng.IntN(2)) * 500}
		if rng.IntN(4) == 0 {
			opt.CRS = geo.GCJ02
		}
		chunk := maxLine + 1 + rng.IntN(4000)
		procs := 1 + rng.IntN(4)
		runtime.GOMAXPROCS(procs)
		wantOut, wantErr, wantSt := referenceGeocodeCSV(in, ix, opt, maxLine)
		var out, errs bytes.Buffer
		st, err := geocodeCSV(strings.NewReader(in), &out, &errs, ix, opt, chunk, maxLine)
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != wantOut {
			t.Fatalf("trial %d (block %d, %d procs): output differs at byte %d:\n%s", trial, chunk, procs,
				firstDiff(out.String(), wantOut), diffContext(out.String(), wantOut))
		}
		if errs.String() != wantErr {
			t.Fatalf("trial %d: errors differ:\n%s", trial, diffContext(errs.String(), wantErr))
		}
		if st != wantSt {
			t.Fatalf("trial %d: stats %+v, want %+v", trial, st, wantSt)
		}
		if wantSt.Inside == 0 || wantSt.Invalid == 0 || wantSt.Unassigned == 0 {
			t.Fatalf("trial %d: input lacks a kind of row: %+v", trial, wantSt)
		}
	}
}

func FuzzGeocodeCSVBlocks(f *testing.F) {
	ix, err := NewIndex(latticeCity(4, 4, 3), IndexOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("id,lon,lat\na,116.1,39.1\nb,116.2,39.2\r\n", uint16(60))
	f.Add("\"q,\"\"\",116.1,39.1\n\n,1,2\nx,-0,.5", uint16(45))
	f.Add(csvTestInput(rand.New(rand.NewPCG(1, 2)), 40, 40), uint16(100))
	f.Fuzz(func(t *testing.T, in string, chunk uint16) {
		const maxLine = 40
		opt := CSVOptions{SnapM: 300}
		wantOut, wantErr, wantSt := referenceGeocodeCSV(in, ix, opt, maxLine)
		var out, errs bytes.Buffer
		st, err := geocodeCSV(strings.NewReader(in), &out, &errs, ix, opt, int(chunk), maxLine)
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != wantOut || errs.String() != wantErr || st != wantSt {
			t.Fatalf("block %d:\noutput %q\nwant   %q\nerrors %q\nwant   %q\nstats %+v want %+v",
				chunk, out.String(), wantOut, errs.String(), wantErr, st, wantSt)
		}
	})
}

func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func diffContext(a, b string) string {
	i := firstDiff(a, b)
	lo := max(0, i-80)
	return fmt.Sprintf("got  …%q\nwant …%q", a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
}

// fastDecimal must agree with strconv.ParseFloat on every number it takes,
// and take exactly the number's bytes.
func TestFastDecimalMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "116.3974123", "-180", "180.0", "39.9", "0.000001", "007.5",
		".5", "5.", "-.5", "123456789012345", "1234567890123456", "12345678.1234567", "12345678.12345678",
		"99999999", "999999999", "0.99999999", "0.999999999", "-", ".", "", "1e5", "1.2.3"}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200000; i++ {
		x := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(12)-3))
		cases = append(cases, strconv.FormatFloat(x, 'f', rng.IntN(17), 64))
	}
	for _, s := range cases {
		for _, tail := range []string{"", ",", "\n", ",1,2,3,4,5,6,7,8"} {
			checkFastDecimal(t, s+tail)
		}
	}
}

func FuzzFastDecimal(f *testing.F) {
	for _, s := range []string{"116.3974123,", "-0.5\n", "12345678.12345678", ".", "-"} {
		f.Add(s)
	}
	f.Fuzz(checkFastDecimal)
}

func checkFastDecimal(t *testing.T, s string) {
	got, end, ok := fastDecimal([]byte(s), 0)
	if !ok {
		// Refusing is always allowed, but not for a plain short decimal.
		if plainDecimal(s) {
			t.Fatalf("%q: refused a plain decimal", s)
		}
		return
	}
	num := s[:end]
	if end < len(s) && s[end] >= '0' && s[end] <= '9' {
		t.Fatalf("%q: stopped at %d inside the number", s, end)
	}
	want, err := strconv.ParseFloat(num, 64)
	if err != nil {
		t.Fatalf("%q: took %q, which strconv refuses: %v", s, num, err)
	}
	if math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("%q: got %v (%x), strconv %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

// plainDecimal reports whether s starts with [-]digits[.digits] of 1 to 15
// digits, not followed by more digits or dots.
func plainDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return digits >= 1 && digits <= 15 && c != '.'
		}
	}
	return digits >= 1 && digits <= 15
}
