package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/store/postgis"
)

// TestMainFlowPostGIS runs the main flow against the PostGIS store: a city
// published, incidents ingested and read back, a workflow step, tiles, OGC
// and Open311, and a scoped key kept to its street.
func TestMainFlowPostGIS(t *testing.T) {
	ctx := context.Background()
	st, err := postgis.Open(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	cd := testCity(t)
	b, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	loadCity(t, ctx, b, cd)
	keys := map[string]string{}
	for name, sp := range testKeyNames(cd) {
		secret, k, err := NewKey(sp.role, sp.scope, name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys[name] = secret
	}
	f := newFixture(t, fixtureOptions{st: st})
	f.keys = keys
	if n := f.b.Columns.Len(); n != len(cd.recs) {
		t.Fatalf("backend loaded %d incidents from PostGIS, want %d", n, len(cd.recs))
	}

	rec := cd.recs[42]
	body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102","external_id":"pg-1"}`, rec.WGSLon, rec.WGSLat)
	var res IngestResult
	r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body))
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	r.json(t, &res)
	if res.GridCode != rec.GridCode {
		t.Errorf("geocoded to %q, want %q", res.GridCode, rec.GridCode)
	}
	if r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/x-ndjson", []byte(body+"\n{\"lon\":1}\n")); r.status != http.StatusUnprocessableEntity {
		t.Errorf("bad batch: %d", r.status)
	}
	path := "/api/v1/incidents/" + strconv.FormatInt(res.ID, 10)
	if r := f.do(http.MethodPatch, path, "analyst", "application/json", []byte(`{"status":"filed","at":"2026-11-20T10:00:00+08:00"}`)); r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	var feat IncidentFeature
	f.mustGet(path, "analyst", http.StatusOK).json(t, &feat)
	if feat.Properties.Status != "filed" || len(feat.Properties.History) != 2 {
		t.Errorf("after PATCH: %+v", feat.Properties)
	}

	var page IncidentCollection
	f.mustGet("/api/v1/incidents?limit=10000&grid="+cd.streetA, "admin", http.StatusOK).json(t, &page)
	wantA := len(cd.recsIn(cd.streetA))
	if strings.HasPrefix(rec.GridCode, cd.streetA) {
		wantA++
	}
	if len(page.Features) != wantA {
		t.Errorf("street A lists %d incidents, want %d", len(page.Features), wantA)
	}

	ls := decodeTile(t, f.mustGet(tilePath("heat", cityTile(t, cd), ""), "analyst", http.StatusOK).body)
	if got := sumProp(ls, "heat", "count"); got != len(cd.recs)+1 {
		t.Errorf("heat holds %d, want %d", got, len(cd.recs)+1)
	}
	ls = decodeTile(t, f.mustGet(tilePath("incidents", tileAt(orb.Point{rec.WGSLon, rec.WGSLat}, 16), ""), "analyst", http.StatusOK).body)
	found := false
	for _, l := range ls {
		for _, ft := range l.Features {
			if v, _ := ft.Properties["id"].(float64); int64(v) == res.ID {
				found = ft.Properties["status"] == "filed"
			}
		}
	}
	if !found {
		t.Error("the new incident is not in its tile with status filed")
	}

	var items struct {
		NumberMatched int `json:"numberMatched"`
	}
	f.mustGet("/ogc/collections/incidents/items?limit=1", "reporter", http.StatusOK).json(t, &items)
	if items.NumberMatched != len(cd.recs)+1 {
		t.Errorf("OGC matched %d", items.NumberMatched)
	}
	form := fmt.Sprintf("service_code=E0102&lat=%v&long=%v", rec.WGSLat, rec.WGSLon)
	if r := f.do(http.MethodPost, "/open311/v2/requests.json", "reporter", "application/x-www-form-urlencoded", []byte(form)); r.status != http.StatusCreated {
		t.Errorf("open311 POST: %d %s", r.status, r.body)
	}

	// Scope: street A's key never sees street B.
	f.mustGet("/api/v1/incidents?limit=10000", "a-reporter", http.StatusOK).json(t, &page)
	for _, ft := range page.Features {
		if !strings.HasPrefix(ft.Properties.GridCode, cd.streetA) {
			t.Fatalf("scoped list shows grid %s", ft.Properties.GridCode)
		}
	}
	f.mustGet("/api/v1/incidents?limit=10000&grid="+cd.streetB, "admin", http.StatusOK).json(t, &page)
	f.mustGet("/api/v1/incidents/"+strconv.FormatInt(page.Features[0].ID, 10), "a-reporter", http.StatusNotFound)
}
