package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
)

func TestIncidentsPostSingleAndIdempotent(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	rec := f.city.recs[10]
	n0 := f.b.Columns.Len()
	body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102","external_id":"t-single-1","description":"垃圾","source":"app"}`,
		rec.WGSLon, rec.WGSLat)

	r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body))
	if r.status != http.StatusCreated {
		t.Fatalf("POST: status %d: %s", r.status, r.body)
	}
	var res IngestResult
	r.json(t, &res)
	if !res.Created || res.ID <= 0 || res.GridCode != rec.GridCode || res.Status != "reported" {
		t.Fatalf("POST result %+v, want created in grid %s", res, rec.GridCode)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/incidents/"+strconv.FormatInt(res.ID, 10) {
		t.Errorf("Location %q", loc)
	}
	if got := f.b.Columns.Len(); got != n0+1 {
		t.Errorf("columns hold %d, want %d", got, n0+1)
	}

	// The same external id again changes nothing.
	r = f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body))
	if r.status != http.StatusOK {
		t.Fatalf("repeat POST: status %d: %s", r.status, r.body)
	}
	var again IngestResult
	r.json(t, &again)
	if again.Created || again.ID != res.ID {
		t.Errorf("repeat POST gave %+v, want the existing id %d, not created", again, res.ID)
	}
	if got := f.b.Columns.Len(); got != n0+1 {
		t.Errorf("columns hold %d after the repeat, want %d", got, n0+1)
	}

	// And it reads back whole, with its history.
	var feat IncidentFeature
	f.mustGet("/api/v1/incidents/"+strconv.FormatInt(res.ID, 10), "reporter", http.StatusOK).json(t, &feat)
	p := feat.Properties
	if feat.Geometry == nil || p.ExternalID != "t-single-1" || p.Description != "垃圾" || p.GridCode != rec.GridCode ||
		p.Category != "E0102" || p.CategoryName == "" || len(p.History) != 1 || p.Deadline == nil {
		t.Errorf("read back %+v (geometry %v)", p, feat.Geometry)
	}
	if !slices.Equal(p.Next, []string{"filed", "rejected"}) {
		t.Errorf("next statuses %v", p.Next)
	}
}

func TestIncidentsPostBatchAllOrNothing(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	good := func(i int) string {
		r := f.city.recs[i]
		return fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T10:00:00+08:00","category":"E0102","external_id":"t-batch-%d"}`, r.WGSLon, r.WGSLat, i)
	}
	tests := []struct {
		name     string
		ct       string
		body     string
		status   int
		bad      []ItemError // line and field of each bad line
		stored   int
		noParams bool
	}{
		{
			name: "ndjson with bad lines", ct: "application/x-ndjson",
			body:   good(1) + "\n" + `{"lon":"x","lat":1}` + "\n" + good(2) + "\n" + `{"lon":116.4,"lat":39.9,"reported_at":"2026-11-20T10:00:00Z","category":"nope"}` + "\n" + `{"lon":116.4,"lat":95,"reported_at":"2026-11-20T10:00:00Z","category":"E0102"}` + "\n",
			status: http.StatusUnprocessableEntity,
			bad:    []ItemError{{Line: 2, Field: "lon"}, {Line: 4, Field: "category"}, {Line: 5, Field: "lat"}},
		},
		{
			name: "ndjson with a line that is no JSON", ct: "application/x-ndjson",
			body:   good(1) + "\n{not json\n",
			status: http.StatusUnprocessableEntity,
			bad:    []ItemError{{Line: 2}},
		},
		{
			name: "good ndjson", ct: "application/x-ndjson",
			body:   good(3) + "\n\n" + good(4) + "\n" + good(5),
			status: http.StatusCreated, stored: 3,
		},
		{
			name: "csv with a bad row", ct: "text/csv",
			body:   "lon,lat,reported_at,category\n116.40,39.91,2026-11-20T10:00:00Z,E0102\n116.40,39.91,yesterday,E0102\n",
			status: http.StatusUnprocessableEntity,
			bad:    []ItemError{{Line: 3, Field: "reported_at"}},
		},
		{
			name: "good csv", ct: "text/csv",
			body:   "lon,lat,reported_at,category,external_id\n116.40,39.91,2026-11-20T10:00:00Z,E0102,t-csv-1\n116.41,39.92,2026-11-20T11:00:00Z,市容环境/暴露垃圾,t-csv-2\n",
			status: http.StatusCreated, stored: 2,
		},
		{
			name: "single object missing a field", ct: "application/json",
			body:   `{"lon":116.4,"lat":39.9,"category":"E0102"}`,
			status: http.StatusUnprocessableEntity,
			bad:    []ItemError{{Field: "reported_at"}},
		},
		{name: "unsupported type", ct: "application/xml", body: "<x/>", status: http.StatusUnsupportedMediaType},
		{name: "empty body", ct: "application/json", body: "", status: http.StatusBadRequest},
		{name: "empty ndjson", ct: "application/x-ndjson", body: "\n\n", status: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n0 := f.b.Columns.Len()
			r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", tc.ct, []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := f.b.Columns.Len() - n0; got != tc.stored {
				t.Errorf("%d incidents stored, want %d", got, tc.stored)
			}
			if r.status >= 400 {
				p := r.problem(t)
				if len(p.Errors) != len(tc.bad) {
					t.Fatalf("errors %+v, want lines %+v", p.Errors, tc.bad)
				}
				for i, want := range tc.bad {
					got := p.Errors[i]
					if got.Line != want.Line || (want.Field != "" && got.Field != want.Field) || got.Error == "" {
						t.Errorf("error %d is %+v, want line %d field %q", i, got, want.Line, want.Field)
					}
				}
			}
		})
	}
}

func TestIncidentsPostLimits(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.srv.opt.MaxBodyBytes = 1 << 10
	big := strings.Repeat(`{"lon":116.4,"lat":39.9,"reported_at":"2026-11-20T10:00:00Z","category":"E0102"}`+"\n", 100)
	r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/x-ndjson", []byte(big))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: status %d: %s", r.status, r.body)
	}
	r.problem(t)
}

func TestIncidentsList(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cd := f.city

	// All pages of a filtered list, against the fixture's own truth.
	street := cd.streetA
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	for _, r := range cd.recsIn(street) {
		if !r.ReportedAt.Before(from) {
			want[r.ExternalID] = true
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d fixture incidents to page through", len(want))
	}
	got := map[string]bool{}
	path := "/api/v1/incidents?" + url.Values{"grid": {street}, "from": {from.Format(time.RFC3339)}, "limit": {"7"}}.Encode()
	var last time.Time
	for pages := 0; path != ""; pages++ {
		if pages > len(want) {
			t.Fatal("paging does not end")
		}
		var page IncidentCollection
		f.mustGet(path, "analyst", http.StatusOK).json(t, &page)
		if page.NumberReturned != len(page.Features) || len(page.Features) > 7 {
			t.Fatalf("page of %d features says %d", len(page.Features), page.NumberReturned)
		}
		for _, ft := range page.Features {
			p := ft.Properties
			if got[p.ExternalID] {
				t.Fatalf("incident %s on two pages", p.ExternalID)
			}
			if p.ReportedAt.Before(last) {
				t.Fatalf("pages out of reported_at order")
			}
			last = p.ReportedAt
			got[p.ExternalID] = true
		}
		path = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				u, _ := url.Parse(l.Href)
				path = u.RequestURI()
			}
		}
		if (page.NextCursor == "") != (path == "") {
			t.Fatalf("next_cursor %q and next link %q disagree", page.NextCursor, path)
		}
	}
	if len(got) != len(want) {
		t.Errorf("paged %d incidents, fixture has %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("incident %s missing from the pages", id)
			break
		}
	}

	t.Run("filters", func(t *testing.T) {
		var page IncidentCollection
		f.mustGet("/api/v1/incidents?status=closed&category=E0102&limit=1000", "analyst", http.StatusOK).json(t, &page)
		wantN := 0
		for _, r := range cd.recs {
			if r.Status == incidents.StatusClosed && r.CategoryCode == "E0102" {
				wantN++
			}
		}
		if len(page.Features) != wantN || wantN == 0 {
			t.Errorf("closed E0102: %d features, fixture has %d", len(page.Features), wantN)
		}
		for _, ft := range page.Features {
			if ft.Properties.Status != "closed" || ft.Properties.Category != "E0102" {
				t.Fatalf("filter let through %+v", ft.Properties)
			}
		}
	})

	t.Run("viewer sees no location or text", func(t *testing.T) {
		var page IncidentCollection
		f.mustGet("/api/v1/incidents?limit=5", "viewer", http.StatusOK).json(t, &page)
		if len(page.Features) != 5 {
			t.Fatalf("%d features", len(page.Features))
		}
		for _, ft := range page.Features {
			if ft.Geometry != nil || ft.Properties.Description != "" || ft.Properties.ExternalID != "" {
				t.Errorf("viewer got %+v with geometry %v", ft.Properties, ft.Geometry)
			}
		}
	})

	bad := []struct {
		name, query string
	}{
		{"limit too large", "limit=10001"},
		{"limit zero", "limit=0"},
		{"bbox too large", "bbox=100,20,120,40"},
		{"bbox inverted", "bbox=117,40,116,39"},
		{"forged cursor", "cursor=bm90IGEgY3Vyc29y"},
		{"unknown status", "status=lost"},
		{"unknown category", "category=Z9999"},
		{"to before from", "from=2026-10-01&to=2026-09-01"},
		{"grid not a code", "grid=abc"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get("/api/v1/incidents?"+tc.query, "analyst")
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			r.problem(t)
		})
	}
}

func TestIncidentPatchWorkflow(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	rec := f.city.recs[20]
	body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102","external_id":"t-patch-1"}`, rec.WGSLon, rec.WGSLat)
	var res IngestResult
	f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body)).json(t, &res)
	path := "/api/v1/incidents/" + strconv.FormatInt(res.ID, 10)

	steps := []struct {
		name   string
		body   string
		status int
		want   string // status after the step
	}{
		{"file", `{"status":"filed","note":"立案","at":"2026-11-20T10:00:00+08:00"}`, http.StatusOK, "filed"},
		{"skip to closed", `{"status":"closed"}`, http.StatusConflict, "filed"},
		{"before the last step", `{"status":"dispatched","at":"2026-11-20T09:00:00+08:00"}`, http.StatusConflict, "filed"},
		{"extend", `{"deadline":"2026-12-31T00:00:00+08:00","note":"需协调","at":"2026-11-20T11:00:00+08:00"}`, http.StatusOK, "filed"},
		{"dispatch", `{"status":"dispatched","at":"2026-11-21T10:00:00+08:00"}`, http.StatusOK, "dispatched"},
		{"handle", `{"status":"handled","at":"2026-11-21T12:00:00+08:00"}`, http.StatusOK, "handled"},
		{"rework", `{"status":"dispatched","at":"2026-11-21T13:00:00+08:00"}`, http.StatusOK, "dispatched"},
		{"unknown field", `{"status":"handled","lon":1}`, http.StatusBadRequest, "dispatched"},
		{"nothing to do", `{"note":"x"}`, http.StatusBadRequest, "dispatched"},
		{"unknown status", `{"status":"done"}`, http.StatusBadRequest, "dispatched"},
		{"handle again", `{"status":"handled","at":"2026-11-22T09:00:00+08:00"}`, http.StatusOK, "handled"},
		{"close", `{"status":"closed","at":"2026-11-22T10:00:00+08:00"}`, http.StatusOK, "closed"},
		{"closed is final", `{"status":"dispatched"}`, http.StatusConflict, "closed"},
	}
	for _, st := range steps {
		r := f.do(http.MethodPatch, path, "analyst", "application/json", []byte(st.body))
		if r.status != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, r.status, st.status, r.body)
		}
		if r.status >= 400 {
			r.problem(t)
		}
		if got := f.b.Columns.View().Row(f.b.Columns.Len() - 1); string(got.Status) != st.want || got.ID != res.ID {
			t.Fatalf("%s: columns say %s for %d, want %s", st.name, got.Status, got.ID, st.want)
		}
	}
	var feat IncidentFeature
	f.mustGet(path, "analyst", http.StatusOK).json(t, &feat)
	p := feat.Properties
	if p.Reworks != 1 || !p.Extended || p.ClosedAt == nil || len(p.History) != 8 {
		t.Errorf("after the workflow: reworks %d, extended %v, closed %v, %d history entries", p.Reworks, p.Extended, p.ClosedAt, len(p.History))
	}
	if h := p.History[1]; h.To != "filed" || h.Note != "立案" || !strings.Contains(h.By, "analyst") {
		t.Errorf("history entry %+v", h)
	}
	if r := f.do(http.MethodPatch, "/api/v1/incidents/999999", "analyst", "application/json", []byte(`{"status":"filed"}`)); r.status != http.StatusNotFound {
		t.Errorf("PATCH of a missing incident: %d", r.status)
	}
}
