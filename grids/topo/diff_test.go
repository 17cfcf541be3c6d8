package topo

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestDiffBlock(t *testing.T) {
	old := block(nil)
	// The A|B boundary moves 30 m east: [100,130]×[0,100] passes to A.
	new := block(map[string]orb.MultiPolygon{
		leafA: mp(rectM(0, 0, 130, 100)),
		leafB: mp(rectM(130, 0, 200, 100)),
	})
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func(x, y float64, id int64, daysAgo int) IncidentPoint {
		p := pt(x, y)
		return IncidentPoint{ID: id, Lon: p[0], Lat: p[1], At: now.AddDate(0, 0, -daysAgo)}
	}
	inc := []IncidentPoint{
		at(110, 50, 1, 3),  // moves B→A
		at(125, 10, 2, 10), // moves B→A
		at(115, 90, 3, 40), // would move, but before Since
		at(50, 50, 4, 1),   // A
		at(150, 50, 5, 2),  // B
		at(150, 150, 6, 5), // D
		at(250, 50, 7, 5),  // outside every grid
		at(50, 150, 8, 5),  // C
	}
	r := Diff(old, new, inc, DiffOptions{Since: now.AddDate(0, 0, -30)})

	if r.Incidents != 7 || r.Moved != 2 {
		t.Errorf("incidents %d moved %d, want 7 and 2", r.Incidents, r.Moved)
	}
	if len(r.Transfers) != 1 || r.Transfers[0].From != leafB || r.Transfers[0].To != leafA || !slices.Equal(r.Transfers[0].IDs, []int64{1, 2}) {
		t.Errorf("transfers %+v", r.Transfers)
	}
	changes := []struct {
		name       string
		code       string
		oldA, newA float64
		oldPP      float64
		newPP      float64
	}{
		// Polsby–Popper 4πA/P² of 100×100, 130×100 and 70×100 rectangles.
		{"A grows", leafA, 10000, 13000, math.Pi / 4, 4 * math.Pi * 13000 / (460 * 460)},
		{"B shrinks", leafB, 10000, 7000, math.Pi / 4, 4 * math.Pi * 7000 / (340 * 340)},
	}
	if len(r.Grids) != 2 || len(r.Shapes) != 2 {
		t.Fatalf("%d grid changes, %d shape changes, want 2", len(r.Grids), len(r.Shapes))
	}
	for i, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			g, s := r.Grids[i], r.Shapes[i]
			if g.Code != tt.code || g.Change != "reshaped" || g.Level != "grid" {
				t.Fatalf("change %+v", g)
			}
			if !near(g.OldAreaM2, tt.oldA, 0.01) || !near(g.NewAreaM2, tt.newA, 0.01) || !near(g.DeltaM2, tt.newA-tt.oldA, 0.01) {
				t.Errorf("areas %.4f → %.4f", g.OldAreaM2, g.NewAreaM2)
			}
			if !near(s.OldPP, tt.oldPP, 1e-6) || !near(s.NewPP, tt.newPP, 1e-6) {
				t.Errorf("Polsby–Popper %.6f → %.6f, want %.6f → %.6f", s.OldPP, s.NewPP, tt.oldPP, tt.newPP)
			}
			if s.OldParts != 1 || s.NewParts != 1 || s.Fragmented {
				t.Errorf("parts %d → %d", s.OldParts, s.NewParts)
			}
		})
	}
	// Counts per leaf before: A 1, B 3, C 1, D 1; after: A 3, B 1, C 1, D 1.
	// Mean 1.5, population variance 0.75, CV √0.75/1.5.
	cv := math.Sqrt(0.75) / 1.5
	workloads := []struct {
		name             string
		got              Workload
		maxGrid, minGrid string
	}{
		{"before", r.WorkloadBefore, leafB, leafA},
		{"after", r.WorkloadAfter, leafA, leafB},
	}
	for _, tt := range workloads {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.got
			if w.Grids != 4 || w.Incidents != 6 || w.Unassigned != 1 || w.Max != 3 || w.Min != 1 ||
				w.MaxGrid != tt.maxGrid || w.MinGrid != tt.minGrid || !near(w.Mean, 1.5, 1e-12) || !near(w.CV, cv, 1e-12) {
				t.Errorf("workload %+v", w)
			}
		})
	}
	if r.ShapeBefore.Leaves != 4 || !near(r.ShapeBefore.MeanPP, math.Pi/4, 1e-6) || r.ShapeAfter.Multipart != 0 {
		t.Errorf("shape stats %+v → %+v", r.ShapeBefore, r.ShapeAfter)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 reshaped", "7 considered, 2 change grid", leafB + " → " + leafA} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, buf.String())
		}
	}
}

// On an edge shared by two grids, a point belongs to exactly one.
func TestLocatorSharedEdges(t *testing.T) {
	l := NewLocator(block(nil))
	tests := []struct {
		name string
		x, y float64
	}{
		{"on the A|B edge", 100, 50},
		{"on the A|C edge", 50, 100},
		{"at the centre corner", 100, 100},
		{"inside D", 150, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pt(tt.x, tt.y)
			got := l.Locate(p[0], p[1])
			n := 0
			for _, g := range block(nil)[3:] {
				if multiPolygonHas(g.Geometry, p[0], p[1]) {
					n++
				}
			}
			if got == "" || n != 1 {
				t.Errorf("located in %q, %d grids claim it", got, n)
			}
		})
	}
}
