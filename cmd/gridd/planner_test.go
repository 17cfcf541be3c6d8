package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
)

func plannerCity(t *testing.T) []*grids.Grid {
	t.Helper()
	city, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return city
}

func writeGrids(t *testing.T, dir, name string, gs []*grids.Grid) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var b bytes.Buffer
	if err := grids.WriteGeoJSON(&b, gs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runGridd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// twoLeafVertex finds leaves a and b of one community and a vertex k of
// a's outer ring that only they have (no other leaf, no parent), so that
// the edges of a at it are all shared with b.
func twoLeafVertex(t *testing.T, city []*grids.Grid) (a, b *grids.Grid, k int) {
	t.Helper()
	owners := map[orb.Point][]*grids.Grid{}
	parent := map[orb.Point]bool{}
	for _, g := range city {
		seen := map[orb.Point]bool{}
		for _, poly := range g.Geometry {
			for _, ring := range poly {
				for _, p := range ring {
					switch {
					case g.Level != grids.LevelGrid:
						parent[p] = true
					case !seen[p]:
						seen[p] = true
						owners[p] = append(owners[p], g)
					}
				}
			}
		}
	}
	for _, g := range city {
		if g.Level != grids.LevelGrid || len(g.Geometry) != 1 {
			continue
		}
		ring := g.Geometry[0][0]
		for i := 1; i+1 < len(ring); i++ {
			o := owners[ring[i]]
			if len(o) == 2 && !parent[ring[i]] && o[0].Parent == o[1].Parent {
				other := o[0]
				if other == g {
					other = o[1]
				}
				return g, other, i
			}
		}
	}
	t.Fatal("no vertex shared by exactly two leaves")
	return nil, nil, 0
}

// localAreaM2 is the shoelace area of a small lon/lat ring in metres,
// scaled by the lengths of a degree at its latitude (the series of the
// WGS84 ellipsoid as the NGA gives them: 111132.954 − 559.822 cos 2φ +
// 1.175 cos 4φ m per degree of latitude, 111412.84 cos φ − 93.5 cos 3φ
// per degree of longitude).
func localAreaM2(ring []orb.Point) float64 {
	phi := ring[0][1] * math.Pi / 180
	my := 111132.954 - 559.822*math.Cos(2*phi) + 1.175*math.Cos(4*phi)
	mx := 111412.84*math.Cos(phi) - 93.5*math.Cos(3*phi)
	s := 0.0
	for i := range ring {
		p, q := ring[i], ring[(i+1)%len(ring)]
		s += (p[0]*mx)*(q[1]*my) - (q[0]*mx)*(p[1]*my)
	}
	return math.Abs(s) / 2
}

var overlapLine = regexp.MustCompile(`(?m)^error\s+overlap\s+\[(\d+) (\d+)\]\s+([0-9.]+) m²`)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	city := plannerCity(t)
	clean := writeGrids(t, dir, "clean.geojson", city)

	// Move a vertex that only a and b share a twentieth of the way into
	// b, in a only: a overlaps b by the dart between a's old and new edges.
	a, b, k := twoLeafVertex(t, city)
	over := topo.Clone(city)
	var moved *grids.Grid
	for _, g := range over {
		if g.Code == a.Code {
			moved = g
		}
	}
	ring := moved.Geometry[0][0]
	v, c := ring[k], b.Bound().Center()
	to := orb.Point{v[0] + 0.05*(c[0]-v[0]), v[1] + 0.05*(c[1]-v[1])}
	wantArea := localAreaM2([]orb.Point{ring[k-1], to, ring[k+1], v})
	ring[k] = to
	overlap := writeGrids(t, dir, "overlap.geojson", over)

	orphan := topo.Clone(city)
	orphan[len(orphan)-1].Parent = orphan[len(orphan)-1].Parent[:9] + "999"
	orphanFile := writeGrids(t, dir, "orphan.geojson", orphan)

	// A feature whose geometry is a point: unreadable, the rest checked.
	raw, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	feats := fc["features"].([]any)
	feats[len(feats)-1].(map[string]any)["geometry"] = map[string]any{"type": "Point", "coordinates": []float64{116.4, 39.9}}
	pointRaw, _ := json.Marshal(fc)
	pointFile := filepath.Join(dir, "point.geojson")
	if err := os.WriteFile(pointFile, pointRaw, 0o600); err != nil {
		t.Fatal(err)
	}

	// A jurisdiction larger than the city leaves a gap all round it.
	var bound orb.Bound
	for i, g := range city {
		if i == 0 {
			bound = g.Bound()
		}
		bound = bound.Union(g.Bound())
	}
	bound = bound.Pad(0.01)
	jur, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{
		{bound.Min[0], bound.Min[1]}, {bound.Max[0], bound.Min[1]}, {bound.Max[0], bound.Max[1]}, {bound.Min[0], bound.Max[1]}, {bound.Min[0], bound.Min[1]},
	}}})
	jurFile := filepath.Join(dir, "jurisdiction.geojson")
	if err := os.WriteFile(jurFile, jur, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		check    func(t *testing.T, stdout string)
	}{
		{name: "clean", args: []string{"validate", clean}, wantCode: 0, want: []string{"no problems"}},
		{name: "clean json", args: []string{"validate", clean, "--format", "json"}, wantCode: 0, check: func(t *testing.T, out string) {
			var r struct {
				OK       bool            `json:"ok"`
				Problems []topo.Problem  `json:"problems"`
				Summary  topo.Summary    `json:"summary"`
				Unread   json.RawMessage `json:"unreadable"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if !r.OK || len(r.Problems) != 0 || r.Summary.Leaves != 200 {
				t.Errorf("json report: ok %v, %d problems, %d leaves", r.OK, len(r.Problems), r.Summary.Leaves)
			}
		}},
		{name: "overlap", args: []string{"validate", overlap}, wantCode: 1, check: func(t *testing.T, out string) {
			m := overlapLine.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no overlap line in:\n%s", out)
			}
			if got := []string{m[1], m[2]}; !(got[0] == a.Code && got[1] == b.Code || got[0] == b.Code && got[1] == a.Code) {
				t.Errorf("overlap names %v, want %s and %s", got, a.Code, b.Code)
			}
			area, _ := strconv.ParseFloat(m[3], 64)
			if math.Abs(area-wantArea) > 0.01*wantArea+0.01 {
				t.Errorf("overlap area %.2f m², want %.2f m² (±1%%)", area, wantArea)
			}
		}},
		{name: "overlap geojson", args: []string{"validate", "--format", "geojson", overlap}, wantCode: 1, want: []string{`"kind":"overlap"`, a.Code, b.Code}},
		{name: "missing parent", args: []string{"validate", orphanFile}, wantCode: 1, want: []string{"missing_parent", orphan[len(orphan)-1].Code}},
		{name: "unreadable feature", args: []string{"validate", pointFile}, wantCode: 1,
			want: []string{"unreadable", "geometry is a Point", city[len(city)-1].Code}},
		{name: "jurisdiction", args: []string{"validate", clean, "--jurisdiction", jurFile}, wantCode: 1, want: []string{"error   gap"}},
		{name: "no sliver check", args: []string{"validate", clean, "--sliver-m2", "0"}, wantCode: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runGridd(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func TestPlannerCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notFC := filepath.Join(dir, "point.json")
	if err := os.WriteFile(notFC, []byte(`{"type":"Point","coordinates":[1,2]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stderr   string
	}{
		{"validate without file", []string{"validate"}, 2, "usage: gridd validate"},
		{"validate missing file", []string{"validate", filepath.Join(dir, "none.geojson")}, 1, "no such file"},
		{"validate not a collection", []string{"validate", notFC}, 1, "want a FeatureCollection"},
		{"validate bad format", []string{"validate", notFC, "--format", "kml"}, 1, "--format"},
		{"diff one file", []string{"diff", notFC}, 2, "usage: gridd diff"},
		{"diff bad since", []string{"diff", notFC, notFC, "--since", "yesterday"}, 1, "--since"},
		{"validate help", []string{"validate", "--help"}, 0, "--jurisdiction"},
		{"diff help", []string{"diff", "--help"}, 0, "--incidents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runGridd(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to mention %q", code, tc.wantCode, errOut, tc.stderr)
			}
		})
	}
}

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	city := plannerCity(t)
	recs := fixtures.GenerateIncidents(city, nil, fixtures.IncidentOptions{Incidents: 400, Seed: 3})
	var nd bytes.Buffer
	if err := fixtures.WriteIncidentsNDJSON(&nd, recs); err != nil {
		t.Fatal(err)
	}
	incFile := filepath.Join(dir, "incidents.ndjson")
	if err := os.WriteFile(incFile, nd.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// Split the leaf holding the most incidents (by the fixture's own
	// record of where it put them) into two new codes.
	per := map[string]int{}
	for _, r := range recs {
		per[r.GridCode]++
	}
	var busiest string
	for code, n := range per {
		if code != "" && (n > per[busiest] || n == per[busiest] && code < busiest) {
			busiest = code
		}
	}
	var leaf *grids.Grid
	for _, g := range city {
		if g.Code == busiest {
			leaf = g
		}
	}
	bb := leaf.Bound()
	mid := bb.Center()[0]
	res, err := topo.Split(city, leaf.Code, orb.LineString{{mid, bb.Min[1] - 1e-4}, {mid, bb.Max[1] + 1e-4}}, [2]string{}, topo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oldFile := writeGrids(t, dir, "old.geojson", city)
	newFile := writeGrids(t, dir, "new.geojson", res.Grids)

	var inLeaf, elsewhere []string
	for _, r := range recs {
		if r.GridCode == busiest {
			inLeaf = append(inLeaf, r.ExternalID)
		} else if len(elsewhere) < 5 && r.ExternalID != "" {
			elsewhere = append(elsewhere, r.ExternalID)
		}
	}
	if len(inLeaf) < 2 {
		t.Fatalf("the busiest grid has %d incidents", len(inLeaf))
	}

	code, out, errOut := runGridd(t, "diff", oldFile, newFile, "--incidents", incFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{
		"grids: 2 added, 1 removed",
		"incidents: " + strconv.Itoa(len(recs)) + " considered, " + strconv.Itoa(len(inLeaf)) + " change grid",
		"removed  grid      " + busiest,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	_, listing, _ := strings.Cut(out, "incidents that change grid")
	for _, id := range inLeaf {
		if !strings.Contains(listing, " "+id+" ") || !strings.Contains(listing, busiest+" → ") {
			t.Errorf("moved incident %s not listed:\n%s", id, listing)
		}
	}
	for _, id := range elsewhere {
		if strings.Contains(listing, " "+id+" ") {
			t.Errorf("incident %s of another grid listed as moved", id)
		}
	}

	code, out, _ = runGridd(t, "diff", oldFile, newFile, "--incidents", incFile, "--format", "json", "--moved", "1")
	if code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	var rep struct {
		Moved     int `json:"moved"`
		Transfers []struct {
			From  string `json:"from"`
			To    string `json:"to"`
			Count int    `json:"count"`
		} `json:"transfers"`
		MovedIncidents []struct {
			ExternalID string `json:"external_id"`
			From       string `json:"from"`
		} `json:"moved_incidents"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var tos []string
	for _, tr := range rep.Transfers {
		if tr.From != busiest {
			t.Errorf("transfer from %s", tr.From)
		}
		tos = append(tos, tr.To)
	}
	added := append([]string(nil), res.Added...)
	sort.Strings(added)
	for _, to := range tos {
		if sort.SearchStrings(added, to) == len(added) || added[sort.SearchStrings(added, to)] != to {
			t.Errorf("transfer to %s, not one of the halves %v", to, added)
		}
	}
	if rep.Moved != len(inLeaf) || len(rep.MovedIncidents) != 1 || rep.MovedIncidents[0].From != busiest {
		t.Errorf("json: moved %d, listed %+v; want %d, one listed", rep.Moved, rep.MovedIncidents, len(inLeaf))
	}

	// Without incidents, only the grids.
	code, out, _ = runGridd(t, "diff", oldFile, newFile)
	if code != 0 || !strings.Contains(out, "incidents: 0 considered") || strings.Contains(out, "incidents that change grid") {
		t.Errorf("diff without incidents: exit %d\n%s", code, out)
	}
}
