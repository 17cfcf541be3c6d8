package topo

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// areaOf is the ellipsoidal area of a geometry, through the package's
// projection about its own centre.
func areaOf(g orb.MultiPolygon) float64 {
	p := newProjection(g.Bound())
	s, _ := newShape(g, func(q orb.Point) xy { return p.fwd(q[0], q[1]) })
	return s.areaM2(p)
}

func find(gs []*grids.Grid, code string) *grids.Grid {
	for _, g := range gs {
		if g.Code == code {
			return g
		}
	}
	return nil
}

func TestSplitMergeBlock(t *testing.T) {
	set := block(nil)
	orig := Clone(set)
	west, east := "110101001001005", "110101001001006"
	res, err := Split(set, leafA, orb.LineString{pt(40, 20), pt(40, 80)}, [2]string{west, east}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalSets(orig, set) {
		t.Fatal("Split modified its input")
	}
	if !res.After.Clean() {
		logReport(t, res.After)
		t.Fatal("set not clean after the split")
	}
	// The cut points went into the neighbour C and into every parent, so
	// each family's edges still cancel exactly.
	if res.After.Summary.ExactFamilies != 0 {
		t.Errorf("%d families needed an overlay after the split", res.After.Summary.ExactFamilies)
	}
	if want := []string{dCode, sCode, cCode, leafC}; !slices.Equal(res.Changed, sortedCopy(want)) {
		t.Errorf("changed %v, want %v", res.Changed, sortedCopy(want))
	}
	if !slices.Equal(res.Added, []string{west, east}) || !slices.Equal(res.Removed, []string{leafA}) {
		t.Errorf("added %v removed %v", res.Added, res.Removed)
	}
	tests := []struct {
		name string
		code string
		area float64
	}{
		{"west half, left of the northward line", west, 4000},
		{"east half", east, 6000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := find(res.Grids, tt.code)
			if g == nil {
				t.Fatalf("no grid %s", tt.code)
			}
			if a := areaOf(g.Geometry); !near(a, tt.area, 0.01) {
				t.Errorf("area %.6f m², want %.0f", a, tt.area)
			}
		})
	}

	merged, err := Merge(res.Grids, []string{west, east}, leafA, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !merged.After.Clean() {
		logReport(t, merged.After)
		t.Fatal("set not clean after the merge")
	}
	got := find(merged.Grids, leafA)
	want := find(orig, leafA)
	if rel := math.Abs(areaOf(got.Geometry)-areaOf(want.Geometry)) / areaOf(want.Geometry); rel > 1e-6 {
		t.Errorf("merged area differs from the original by %.2e", rel)
	}
	if len(got.Geometry) != 1 || len(got.Geometry[0]) != 1 {
		t.Errorf("merged grid has %d parts, %d rings", len(got.Geometry), len(got.Geometry[0]))
	}
	// Every vertex of the merged grid is an original one or a cut point
	// on the original outline.
	for _, v := range got.Geometry[0][0] {
		if !planar.RingContains(want.Geometry[0][0], v) && !onRing(want.Geometry[0][0], v) {
			t.Errorf("vertex %v off the original outline", v)
		}
	}
}

func onRing(r orb.Ring, p orb.Point) bool {
	for k := 0; k+1 < len(r); k++ {
		if distToSegment(p, r[k], r[k+1]) < 1e-12 {
			return true
		}
	}
	return false
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestEditErrors(t *testing.T) {
	set := block(nil)
	tests := []struct {
		name string
		edit func() error
	}{
		{"split unknown grid", func() error {
			_, err := Split(set, "110101001001999", orb.LineString{pt(40, 20), pt(40, 80)}, [2]string{}, Options{})
			return err
		}},
		{"split by a line missing the grid", func() error {
			_, err := Split(set, leafA, orb.LineString{pt(140, 20), pt(140, 80)}, [2]string{}, Options{})
			return err
		}},
		{"split a grid with children", func() error {
			_, err := Split(set, cCode, orb.LineString{pt(40, 20), pt(40, 80)}, [2]string{}, Options{})
			return err
		}},
		{"split into a code in use", func() error {
			_, err := Split(set, leafA, orb.LineString{pt(40, 20), pt(40, 80)}, [2]string{leafB, ""}, Options{})
			return err
		}},
		{"split by a single point", func() error {
			_, err := Split(set, leafA, orb.LineString{pt(40, 20), pt(40, 20)}, [2]string{}, Options{})
			return err
		}},
		{"merge one grid", func() error {
			_, err := Merge(set, []string{leafA}, "", Options{})
			return err
		}},
		{"merge grids of different levels", func() error {
			_, err := Merge(set, []string{leafA, cCode}, "", Options{})
			return err
		}},
		{"move under a grid of the wrong level", func() error {
			_, err := Move(set, leafA, sCode, Options{})
			return err
		}},
		{"move under its own parent", func() error {
			_, err := Move(set, leafA, cCode, Options{})
			return err
		}},
		{"replace an unknown grid", func() error {
			_, err := ReplaceGeometry(set, "110101001001999", mp(rectM(0, 0, 1, 1)), Options{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.edit(); !errors.Is(err, ErrEdit) {
				t.Errorf("err = %v, want ErrEdit", err)
			}
		})
	}
}

func TestSplitAutoCodes(t *testing.T) {
	res, err := Split(block(nil), leafD, orb.LineString{pt(150, 90), pt(150, 210)}, [2]string{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"110101001001005", "110101001001006"}; !slices.Equal(res.Added, want) {
		t.Errorf("added %v, want %v", res.Added, want)
	}
	if !res.After.Clean() {
		logReport(t, res.After)
		t.Error("not clean after split")
	}
}

func TestReplaceGeometryDelta(t *testing.T) {
	set := block(nil)
	res, err := ReplaceGeometry(set, leafD, mp(rectM(100, 100, 200, 193)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Before.Clean() || len(res.Delta.Added) != 1 || len(res.Delta.Removed) != 0 {
		t.Fatalf("before clean %v, delta %+v", res.Before.Clean(), res.Delta)
	}
	if p := res.Delta.Added[0]; p.Kind != KindGap || !near(p.AreaM2, 700, 0.01) {
		t.Errorf("added %s of %.4f m², want a gap of 700", p.Kind, p.AreaM2)
	}
	back, err := ReplaceGeometry(res.Grids, leafD, mp(rectM(100, 100, 200, 200)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Delta.Removed) != 1 || len(back.Delta.Added) != 0 || !back.After.Clean() {
		t.Errorf("repair delta %+v", back.Delta)
	}
}

// twoCommunities is a street of two communities side by side, each of two
// 100 m leaves: 001 = [0,100], 002 = [100,200] under community 001;
// 001 = [200,300], 002 = [300,400] under community 002.
func twoCommunities() []*grids.Grid {
	c1, c2 := sCode+"001", sCode+"002"
	return []*grids.Grid{
		grid(dCode, grids.LevelDistrict, "", mp(orb.Polygon{ringM(0, 0, 100, 0, 200, 0, 300, 0, 400, 0, 400, 100, 300, 100, 200, 100, 100, 100, 0, 100)})),
		grid(sCode, grids.LevelStreet, dCode, mp(orb.Polygon{ringM(0, 0, 100, 0, 200, 0, 300, 0, 400, 0, 400, 100, 300, 100, 200, 100, 100, 100, 0, 100)})),
		grid(c1, grids.LevelCommunity, sCode, mp(orb.Polygon{ringM(0, 0, 100, 0, 200, 0, 200, 100, 100, 100, 0, 100)})),
		grid(c2, grids.LevelCommunity, sCode, mp(orb.Polygon{ringM(200, 0, 300, 0, 400, 0, 400, 100, 300, 100, 200, 100)})),
		grid(c1+"001", grids.LevelGrid, c1, mp(rectM(0, 0, 100, 100))),
		grid(c1+"002", grids.LevelGrid, c1, mp(rectM(100, 0, 200, 100))),
		grid(c2+"001", grids.LevelGrid, c2, mp(rectM(200, 0, 300, 100))),
		grid(c2+"002", grids.LevelGrid, c2, mp(rectM(300, 0, 400, 100))),
	}
}

func TestMove(t *testing.T) {
	set := twoCommunities()
	if r := Validate(set, Options{}); !r.Clean() {
		logReport(t, r)
		t.Fatal("fixture not clean")
	}
	c1, c2 := sCode+"001", sCode+"002"
	res, err := Move(set, c1+"002", c2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Rename{{c1 + "002", c2 + "003"}}; !slices.Equal(res.Renamed, want) {
		t.Errorf("renamed %v, want %v", res.Renamed, want)
	}
	if want := []string{c1, c2}; !slices.Equal(res.Changed, want) {
		t.Errorf("changed %v, want %v", res.Changed, want)
	}
	if !res.After.Clean() {
		logReport(t, res.After)
		t.Fatal("not clean after the move")
	}
	areas := []struct {
		name string
		code string
		want float64
	}{
		{"old parent lost 100×100", c1, 10000},
		{"new parent gained 100×100", c2, 30000},
		{"moved grid kept its area", c2 + "003", 10000},
	}
	for _, tt := range areas {
		t.Run(tt.name, func(t *testing.T) {
			g := find(res.Grids, tt.code)
			if g == nil {
				t.Fatalf("no grid %s", tt.code)
			}
			if a := areaOf(g.Geometry); !near(a, tt.want, 0.01) {
				t.Errorf("area %.4f, want %.0f", a, tt.want)
			}
		})
	}
	// Moving a community re-codes its grids along.
	res, err = Move(set, c2, sCode, Options{})
	if err == nil {
		t.Error("moved a community under its own street")
	}
	set2 := append(twoCommunities(),
		grid("110101002", grids.LevelStreet, dCode, mp(rectM(0, 100, 400, 200))),
		grid("110101002001", grids.LevelCommunity, "110101002", mp(rectM(0, 100, 400, 200))),
		grid("110101002001001", grids.LevelGrid, "110101002001", mp(rectM(0, 100, 400, 200))),
	)
	res, err = Move(set2, c2, "110101002", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rename{{c2, "110101002002"}, {c2 + "001", "110101002002001"}, {c2 + "002", "110101002002002"}}
	if !slices.Equal(res.Renamed, want) {
		t.Errorf("renamed %v, want %v", res.Renamed, want)
	}
	for _, g := range res.Grids {
		if g.Code == "110101002002001" && g.Parent != "110101002002" {
			t.Errorf("re-coded grid has parent %s", g.Parent)
		}
	}
}
