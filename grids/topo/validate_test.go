package topo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
)

type wantProblem struct {
	kind  string
	grids []string // nil: not checked
	area  float64  // m²; 0: not checked
}

func TestValidateHandMade(t *testing.T) {
	holed := orb.Polygon{ringM(0, 0, 100, 0, 100, 100, 0, 100), ringM(20, 20, 20, 50, 40, 50, 40, 20)}
	holedParent := orb.Polygon{square200()[0], ringM(20, 20, 20, 50, 40, 50, 40, 20)}
	tests := []struct {
		name  string
		set   []*grids.Grid
		opt   Options
		want  []wantProblem
		exact bool // the family check must fall back to the overlay
	}{
		{
			name: "clean block",
			set:  block(nil),
		},
		{
			name: "clean block, parents without the mid-side vertices",
			set: func() []*grids.Grid {
				s := block(nil)
				for _, g := range s[:3] {
					g.Geometry = mp(rectM(0, 0, 200, 200))
				}
				return s
			}(),
			exact: true,
		},
		{
			name: "clean block split with a vertex on a neighbour's edge",
			set: func() []*grids.Grid {
				s := block(map[string]orb.MultiPolygon{leafA: mp(rectM(0, 0, 100, 50))})
				return append(s, grid("110101001001005", grids.LevelGrid, cCode, mp(rectM(0, 50, 100, 100))))
			}(),
			exact: true,
		},
		{
			name: "B stretched 10 m west over A",
			set:  block(map[string]orb.MultiPolygon{leafB: mp(rectM(90, 0, 200, 100))}),
			want: []wantProblem{{KindOverlap, []string{leafA, leafB}, 1000}},
		},
		{
			name: "B shifted 10 m west: overlap with A and a gap on the east",
			set:  block(map[string]orb.MultiPolygon{leafB: mp(rectM(90, 0, 190, 100))}),
			want: []wantProblem{
				{KindGap, []string{dCode, sCode, cCode}, 1000},
				{KindOverlap, []string{leafA, leafB}, 1000},
			},
		},
		{
			name: "D shrunk by 7 m on the north",
			set:  block(map[string]orb.MultiPolygon{leafD: mp(rectM(100, 100, 200, 193))}),
			want: []wantProblem{{KindGap, []string{dCode, sCode, cCode}, 700}},
		},
		{
			name: "D shrunk into a trapezoid",
			set:  block(map[string]orb.MultiPolygon{leafD: mp(orb.Polygon{ringM(100, 100, 200, 100, 200, 170, 100, 200)})}),
			// The triangle (200,170) (200,200) (100,200): ½·30·100.
			want: []wantProblem{{KindGap, []string{dCode, sCode, cCode}, 1500}},
		},
		{
			name: "hole in A that its parents fill",
			set:  block(map[string]orb.MultiPolygon{leafA: mp(holed)}),
			want: []wantProblem{{KindGap, []string{dCode, sCode, cCode}, 600}},
		},
		{
			name: "hole in A and in every parent: a hole in the jurisdiction",
			set: func() []*grids.Grid {
				s := block(map[string]orb.MultiPolygon{leafA: mp(holed)})
				for _, g := range s[:3] {
					g.Geometry = mp(holedParent)
				}
				return s
			}(),
			want: []wantProblem{{KindGap, []string{}, 600}},
		},
		{
			name: "hole in every level but the jurisdiction given covers it",
			set: func() []*grids.Grid {
				s := block(map[string]orb.MultiPolygon{leafA: mp(holed)})
				for _, g := range s[:3] {
					g.Geometry = mp(holedParent)
				}
				return s
			}(),
			opt:  Options{Jurisdiction: mp(rectM(0, 0, 200, 200))},
			want: []wantProblem{{KindGap, []string{}, 600}},
		},
		{
			name: "sliver strip cut off D",
			set: func() []*grids.Grid {
				s := block(map[string]orb.MultiPolygon{leafD: mp(rectM(100, 100, 200, 199.95))})
				return append(s, grid("110101001001005", grids.LevelGrid, cCode, mp(rectM(100, 199.95, 200, 200))))
			}(),
			want: []wantProblem{{KindSliver, []string{"110101001001005"}, 5}},
		},
		{
			name: "B reaches 10 m out of its parents",
			set:  block(map[string]orb.MultiPolygon{leafB: mp(rectM(100, 0, 210, 100))}),
			want: []wantProblem{{KindOutsideParent, []string{leafB, cCode}, 1000}},
		},
		{
			name: "grid reaching into a neighbouring community",
			set: func() []*grids.Grid {
				s := twoCommunities()
				s[5].Geometry = mp(rectM(100, 0, 230, 100))
				return s
			}(),
			want: []wantProblem{
				{KindOverlap, []string{sCode + "001002", sCode + "002001"}, 3000},
				{KindOutsideParent, []string{sCode + "001002", sCode + "001"}, 3000},
			},
		},
		{
			name: "jurisdiction larger than the set",
			set:  block(nil),
			opt:  Options{Jurisdiction: mp(rectM(0, 0, 210, 200))},
			want: []wantProblem{{KindGap, []string{}, 2000}},
		},
		{
			name: "jurisdiction smaller than the set",
			set:  block(nil),
			opt:  Options{Jurisdiction: mp(rectM(0, 0, 200, 190))},
			want: []wantProblem{{KindOutsideJurisdiction, []string{dCode}, 2000}},
		},
		{
			name: "jurisdiction equal to the set",
			set:  block(nil),
			opt:  Options{Jurisdiction: mp(square200())},
		},
		{
			name: "self-intersecting A",
			set:  block(map[string]orb.MultiPolygon{leafA: mp(orb.Polygon{ringM(0, 0, 100, 100, 100, 0, 0, 100)})}),
			want: []wantProblem{{KindInvalidGeometry, []string{leafA}, 0}},
		},
		{
			name: "A with too few vertices",
			set:  block(map[string]orb.MultiPolygon{leafA: mp(orb.Polygon{ringM(0, 0, 100, 0)})}),
			want: []wantProblem{{KindInvalidGeometry, []string{leafA}, 0}},
		},
		{
			name: "A in two parts",
			set:  block(map[string]orb.MultiPolygon{leafA: mp(rectM(0, 0, 50, 100), rectM(50, 0, 100, 100))}),
			// The parts touch along an edge, which OGC forbids for the
			// polygons of a multipolygon.
			want: []wantProblem{{KindInvalidGeometry, []string{leafA}, 0}},
		},
		{
			name: "A in two separate parts",
			set:  block(map[string]orb.MultiPolygon{leafA: mp(rectM(0, 0, 40, 100), rectM(60, 0, 100, 100))}),
			want: []wantProblem{
				{KindGap, []string{dCode, sCode, cCode}, 2000},
				{KindMultipart, []string{leafA}, 8000},
			},
		},
		{
			name: "leaves without parents around a missing one",
			set: func() []*grids.Grid {
				var s []*grids.Grid
				for j := 0; j < 3; j++ {
					for i := 0; i < 3; i++ {
						if i == 1 && j == 1 {
							continue
						}
						x, y := float64(i)*100, float64(j)*100
						s = append(s, grid(fmt.Sprintf("%s%03d", cCode, 3*j+i+1), grids.LevelGrid, "",
							mp(orb.Polygon{ringM(x, y, x+100, y, x+100, y+100, x, y+100)})))
					}
				}
				return s
			}(),
			want: append([]wantProblem{{KindGap, []string{}, 10000}},
				slices.Repeat([]wantProblem{{KindMissingParent, nil, 0}}, 8)...),
		},
		{
			name: "leaves without parents, a hole touching the outline at a corner",
			set: func() []*grids.Grid {
				var s []*grids.Grid
				for j := 0; j < 3; j++ {
					for i := 0; i < 3; i++ {
						if (i == 1 && j == 1) || (i == 2 && j == 2) {
							continue
						}
						x, y := float64(i)*100, float64(j)*100
						s = append(s, grid(fmt.Sprintf("%s%03d", cCode, 3*j+i+1), grids.LevelGrid, "",
							mp(orb.Polygon{ringM(x, y, x+100, y, x+100, y+100, x, y+100)})))
					}
				}
				return s
			}(),
			want: append([]wantProblem{{KindGap, []string{}, 10000}},
				slices.Repeat([]wantProblem{{KindMissingParent, nil, 0}}, 7)...),
		},
		{
			name: "empty set",
			set:  nil,
		},
		{
			name: "grid with a code not under its parent",
			set: func() []*grids.Grid {
				s := block(nil)
				s[6].Code = "110101001002004"
				return s
			}(),
			want: []wantProblem{{KindCodeMismatch, []string{"110101001002004", cCode}, 0}},
		},
		{
			name: "grid whose parent is missing",
			set: func() []*grids.Grid {
				s := block(nil)
				s[6].Parent = "110101001009"
				s[6].Code = "110101001009001"
				return s
			}(),
			// D is then a top-level grid beside the district: the
			// jurisdiction is unchanged, but the community lacks D.
			want: []wantProblem{
				{KindParentNotCovered, []string{cCode}, 10000},
				{KindMissingParent, []string{"110101001009001", "110101001009"}, 0},
			},
		},
		{
			name: "duplicate and malformed codes",
			set: func() []*grids.Grid {
				s := block(nil)
				s[5].Code = leafA
				s[6].Code = "11010100100100X"
				return s
			}(),
			want: []wantProblem{
				{KindDuplicateCode, []string{leafA}, 0},
				{KindBadCode, []string{"11010100100100X"}, 0},
			},
		},
		{
			name: "level disagreeing with code length",
			set: func() []*grids.Grid {
				s := block(nil)
				s[1].Level = grids.LevelCommunity
				return s
			}(),
			want: []wantProblem{
				{KindCodeMismatch, []string{sCode}, 0},
				{KindCodeMismatch, []string{sCode, dCode}, 0},
				{KindCodeMismatch, []string{cCode, sCode}, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneGrids(tt.set)
			r := Validate(tt.set, tt.opt)
			if !equalSets(before, tt.set) {
				t.Fatal("Validate modified its input")
			}
			if len(r.Problems) != len(tt.want) {
				logReport(t, r)
				t.Fatalf("got %d problems, want %d", len(r.Problems), len(tt.want))
			}
			used := make([]bool, len(r.Problems))
			for _, w := range tt.want {
				found := false
				for i, p := range r.Problems {
					if used[i] || p.Kind != w.kind {
						continue
					}
					if w.grids != nil && !slices.Equal(p.Grids, w.grids) && !(len(w.grids) == 0 && len(p.Grids) == 0) {
						continue
					}
					if w.area != 0 && !near(p.AreaM2, w.area, 0.01) {
						t.Errorf("%s %v: area %.6f m², want %.2f", p.Kind, p.Grids, p.AreaM2, w.area)
					}
					used[i], found = true, true
					if p.Geometry != nil && !geometryContains(p.Geometry, p.Place) {
						t.Errorf("%s %v: place %v not inside the problem area", p.Kind, p.Grids, p.Place)
					}
					break
				}
				if !found {
					logReport(t, r)
					t.Errorf("no %s problem for %v", w.kind, w.grids)
				}
			}
			if tt.exact && r.Summary.ExactFamilies == 0 {
				t.Error("expected the family check to fall back to the overlay")
			}
			if !tt.exact && len(tt.want) == 0 && r.Summary.ExactFamilies != 0 {
				t.Errorf("clean set needed %d overlays of families", r.Summary.ExactFamilies)
			}
			if len(tt.want) == 0 && (!r.Clean() || !r.OK()) {
				t.Error("clean set not reported clean")
			}
		})
	}
}

func TestValidateAreas(t *testing.T) {
	r := Validate(block(nil), Options{})
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"jurisdiction", r.Summary.JurisdictionAreaM2, 40000},
		{"leaves", r.Summary.LeafAreaM2, 40000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !near(tt.got, tt.want, 0.01) {
				t.Errorf("got %.6f m², want %.0f", tt.got, tt.want)
			}
		})
	}
	if r.Summary.NeighbourPairs != 0 || r.Summary.ExactFamilies != 0 {
		t.Errorf("clean block: %d neighbour pairs tested, %d families overlaid, want none", r.Summary.NeighbourPairs, r.Summary.ExactFamilies)
	}
	// Parents without the vertices where the leaves meet their outline: the
	// families are overlaid and every pair of neighbours tested, each
	// cleared by the edge test.
	s := block(nil)
	for _, g := range s[:3] {
		g.Geometry = mp(rectM(0, 0, 200, 200))
	}
	r = Validate(s, Options{})
	if r.Summary.NeighbourPairs != 6 {
		t.Errorf("neighbour pairs %d, want 6 (4 edge and 2 corner neighbours)", r.Summary.NeighbourPairs)
	}
	if r.Summary.PairOverlays != 0 {
		t.Errorf("%d pairs needed an overlay, want 0", r.Summary.PairOverlays)
	}
}

func TestReportOutputs(t *testing.T) {
	r := Validate(block(map[string]orb.MultiPolygon{leafB: mp(rectM(90, 0, 190, 100))}), Options{})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Problems) != len(r.Problems) || back.Summary.Errors != 2 {
		t.Fatalf("round trip: %d problems, %d errors", len(back.Problems), back.Summary.Errors)
	}
	for i, p := range back.Problems {
		if p.Kind != r.Problems[i].Kind || !near(p.AreaM2, r.Problems[i].AreaM2, 0.01) || p.Geometry == nil || !p.HasPlace {
			t.Errorf("problem %d: %+v after round trip", i, p)
		}
	}
	fc := r.GeoJSON()
	if len(fc.Features) != 2 {
		t.Fatalf("%d features, want 2", len(fc.Features))
	}
	for _, f := range fc.Features {
		if f.Properties["kind"] == nil || f.Properties["area_m2"].(float64) <= 0 {
			t.Errorf("feature properties %v", f.Properties)
		}
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 errors", "gap", "overlap", leafA + " " + leafB, "1000.00 m²"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, buf.String())
		}
	}
	buf.Reset()
	if err := Validate(block(nil), Options{}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no problems") {
		t.Errorf("clean text output:\n%s", buf.String())
	}
}

func TestDeltaOf(t *testing.T) {
	clean := Validate(block(nil), Options{})
	broken := Validate(block(map[string]orb.MultiPolygon{leafD: mp(rectM(100, 100, 200, 193))}), Options{})
	tests := []struct {
		name           string
		before, after  Report
		added, removed int
	}{
		{"break", clean, broken, 1, 0},
		{"repair", broken, clean, 0, 1},
		{"unchanged", broken, broken, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DeltaOf(tt.before, tt.after)
			if len(d.Added) != tt.added || len(d.Removed) != tt.removed {
				t.Errorf("added %d removed %d, want %d and %d", len(d.Added), len(d.Removed), tt.added, tt.removed)
			}
		})
	}
}

func cloneGrids(gs []*grids.Grid) []*grids.Grid {
	out := make([]*grids.Grid, len(gs))
	for i, g := range gs {
		c := *g
		c.Geometry = orb.Clone(g.Geometry).(orb.MultiPolygon)
		out[i] = &c
	}
	return out
}

func equalSets(a, b []*grids.Grid) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Code != b[i].Code || a[i].Parent != b[i].Parent || !orb.Equal(a[i].Geometry, b[i].Geometry) {
			return false
		}
	}
	return true
}
