package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/hotspot"
)

// The planted patterns of the demo city come out of the analytics with
// their defaults: weekly steps over the demo's whole period, cells of 250 m,
// the default band.
func TestAnalyticsDemo(t *testing.T) {
	city, recs, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	f := newAnalyticsFixture(t, city, recs, true)
	plants := fixtures.Plants(city, fixtures.DefaultIncidentOptions())
	end := fixtures.DefaultEnd()
	start := end.AddDate(0, 0, -120) // the demo's period
	ix, err := f.b.Registry.At(end.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	qt := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }

	t.Run("emerging", func(t *testing.T) {
		var res cellsResponse
		path := fmt.Sprintf("/api/v1/emerging?step=week&from=%s&to=%s", qt(start), qt(end))
		if code := f.get(t, path, "", &res); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if res.Step != "week" || len(res.Slices) != 18 {
			t.Fatalf("step %s with %d slice boundaries, want 17 weeks", res.Step, len(res.Slices))
		}
		t.Logf("patterns over the city: %v", res.Patterns)
		var stable, steady int
		for _, pl := range plants {
			seen := map[string]int{}
			for _, k := range plantCells(&res, pl) {
				seen[res.Features[k].Properties.Category]++
			}
			t.Logf("%s (%s): %v", pl.Name, pl.Kind, seen)
			if len(seen) == 0 {
				t.Fatalf("no cell centred within %s", pl.Name)
			}
			for cat, n := range seen {
				switch pl.Kind {
				case fixtures.PlantEmerging:
					// Hot only in the last weeks, never before.
					if cat != "new_hot_spot" && cat != "consecutive_hot_spot" && cat != "intensifying_hot_spot" {
						t.Errorf("emerging %s: %d cells %s", pl.Name, n, cat)
					}
				default:
					// Hot in at least 90% of the weeks, the last included.
					if cat != "persistent_hot_spot" && cat != "intensifying_hot_spot" && cat != "diminishing_hot_spot" {
						t.Errorf("stable %s: %d cells %s", pl.Name, n, cat)
					}
					stable += n
					if cat != "diminishing_hot_spot" {
						steady += n
					}
				}
			}
		}
		// The trend test runs per cell at 5% on autocorrelated z series
		// (each slice's neighbourhood reaches into the one before), so a
		// steady plant may see a cell or two called diminishing by chance;
		// most of their cells must read persistent or intensifying.
		if 3*steady < 2*stable {
			t.Errorf("only %d of %d cells of the stable plants are persistent or intensifying", steady, stable)
		}
	})

	t.Run("alerts", func(t *testing.T) {
		var res alertsResponse
		if code := f.get(t, "/api/v1/alerts?step=week&at="+qt(end), "", &res); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if !res.Tested.To.Equal(end) || !res.Tested.From.Equal(end.AddDate(0, 0, -7)) {
			t.Errorf("tested %v", res.Tested)
		}
		var emerging fixtures.Plant
		for _, pl := range plants {
			if pl.Kind == fixtures.PlantEmerging {
				emerging = pl
			}
		}
		centre := ix.LocateCode(emerging.Center[0], emerging.Center[1])
		found := false
		for _, a := range res.Alerts {
			t.Logf("alert %s %s: %d observed, %.2f expected, q %.3g", a.Code, a.Name, a.Observed, a.Expected, a.Q)
			found = found || a.Code == centre
			// Every alert is a grid the emerging plant reaches: the stable
			// plants and the background hold their baselines.
			g := ix.Grid(a.Code)
			if g == nil || !g.Bound().Intersects(discBound(emerging)) {
				t.Errorf("alert for grid %s away from the emerging hot spot", a.Code)
			}
			if a.Q > alertFDR || a.Observed < alertMinObserved || a.Name == "" {
				t.Errorf("alert %+v", a)
			}
		}
		if !found {
			t.Errorf("grid %s at the centre of the emerging hot spot is not flagged", centre)
		}
	})

	t.Run("hotspots", func(t *testing.T) {
		tests := []struct {
			name     string
			from, to time.Time
			emerging func(bin int8) bool
		}{
			{"last four weeks", end.AddDate(0, 0, -28), end, func(b int8) bool { return b == 3 }},
			{"before the emergence", start, end.AddDate(0, 0, -28), func(b int8) bool { return b <= 0 }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var res cellsResponse
				path := fmt.Sprintf("/api/v1/hotspots?from=%s&to=%s", qt(tc.from), qt(tc.to))
				if code := f.get(t, path, "", &res); code != http.StatusOK {
					t.Fatalf("status %d", code)
				}
				for _, pl := range plants {
					k := centreCell(&res, pl)
					if k < 0 {
						t.Fatalf("no cell holds the centre of %s", pl.Name)
					}
					bin := res.Features[k].Properties.Bin
					ok := bin == 3
					if pl.Kind == fixtures.PlantEmerging {
						ok = tc.emerging(bin)
					}
					if !ok {
						t.Errorf("%s (%s): centre cell bin %d, z %v", pl.Name, pl.Kind, bin, *res.Features[k].Properties.Z)
					}
				}
			})
		}
	})
}

// plantCells are the cells whose centre lies within the plant's disc.
func plantCells(res *cellsResponse, pl fixtures.Plant) []int {
	proj := hotspot.NewProjection(res.Projection.Lon0, res.Projection.Lat0)
	px, py := proj.Forward(pl.Center[0], pl.Center[1])
	var out []int
	for k := range res.Features {
		c := res.bound(k).Center()
		x, y := proj.Forward(c[0], c[1])
		if math.Hypot(x-px, y-py) <= pl.RadiusM {
			out = append(out, k)
		}
	}
	return out
}

// centreCell is the cell holding the plant's centre, or -1.
func centreCell(res *cellsResponse, pl fixtures.Plant) int {
	for k := range res.Features {
		b := res.bound(k)
		if pl.Center[0] >= b.Min[0] && pl.Center[0] < b.Max[0] && pl.Center[1] >= b.Min[1] && pl.Center[1] < b.Max[1] {
			return k
		}
	}
	return -1
}

// discBound is the lon/lat box of a plant's disc.
func discBound(pl fixtures.Plant) orb.Bound {
	p := hotspot.NewProjection(pl.Center[0], pl.Center[1])
	lon0, lat0 := p.Inverse(-pl.RadiusM, -pl.RadiusM)
	lon1, lat1 := p.Inverse(pl.RadiusM, pl.RadiusM)
	return orb.Bound{Min: orb.Point{lon0, lat0}, Max: orb.Point{lon1, lat1}}
}
