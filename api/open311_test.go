package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/incidents"
)

func TestOpen311Services(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var svcs []Open311Service
	f.mustGet("/open311/v2/services.json", "viewer", http.StatusOK).json(t, &svcs)
	cat := incidents.Builtin()
	if len(svcs) != cat.Len() {
		t.Fatalf("%d services, catalogue has %d", len(svcs), cat.Len())
	}
	for _, s := range svcs {
		c, ok := cat.Lookup(s.ServiceCode)
		if !ok || s.ServiceName != c.Name() || s.Type != "realtime" || s.Group != c.Major {
			t.Errorf("service %+v", s)
		}
	}
	var disc map[string]any
	f.mustGet("/open311/v2/discovery.json", "", http.StatusOK).json(t, &disc)
	if disc["endpoints"] == nil {
		t.Errorf("discovery %v", disc)
	}
}

// TestOpen311PostIsGeocodedEverywhere posts requests as a citizen app
// would and finds them, in their grid, in the incident list and the tiles.
func TestOpen311PostIsGeocodedEverywhere(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tests := []struct {
		name string
		ct   string
		body func(lon, lat float64) string
		crs  geo.CRS
	}{
		{
			name: "form", ct: "application/x-www-form-urlencoded",
			body: func(lon, lat float64) string {
				return url.Values{"service_code": {"E0102"}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)},
					"description": {"路边垃圾堆放"}, "email": {"x@example.com"}, "address_string": {"东四十条"}}.Encode()
			},
		},
		{
			name: "json", ct: "application/json",
			body: func(lon, lat float64) string {
				return fmt.Sprintf(`{"service_code":"C0101","lat":%v,"long":%v,"description":"井盖缺失"}`, lat, lon)
			},
		},
		{
			name: "form in gcj02", ct: "application/x-www-form-urlencoded", crs: geo.GCJ02,
			body: func(lon, lat float64) string {
				return url.Values{"service_code": {"E0102"}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)}, "crs": {"gcj02"}}.Encode()
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.city.recs[100+i*37]
			lon, lat := rec.WGSLon, rec.WGSLat
			if tc.crs == geo.GCJ02 {
				lon, lat = geo.WGS84ToGCJ02(lon, lat)
			}
			r := f.do(http.MethodPost, "/open311/v2/requests.json", "reporter", tc.ct, []byte(tc.body(lon, lat)))
			if r.status != http.StatusCreated {
				t.Fatalf("POST: status %d: %s", r.status, r.body)
			}
			var created []map[string]any
			r.json(t, &created)
			if len(created) != 1 {
				t.Fatalf("answer %s", r.body)
			}
			sid, _ := created[0]["service_request_id"].(string)
			id, err := strconv.ParseInt(sid, 10, 64)
			if err != nil {
				t.Fatalf("service_request_id %q", sid)
			}

			// In the incident list of its grid, geocoded, source open311.
			var page IncidentCollection
			f.mustGet("/api/v1/incidents?limit=10000&grid="+rec.GridCode, "analyst", http.StatusOK).json(t, &page)
			var got *IncidentFeature
			for i := range page.Features {
				if page.Features[i].ID == id {
					got = &page.Features[i]
				}
			}
			if got == nil {
				t.Fatalf("request %d not in the incidents of grid %s", id, rec.GridCode)
			}
			if got.Properties.Source != "open311" || got.Properties.GridCode != rec.GridCode {
				t.Errorf("incident %+v", got.Properties)
			}
			if d := orb.Point(got.Geometry.Coordinates); tc.crs == geo.GCJ02 && (abs(d[0]-rec.WGSLon) > 1e-6 || abs(d[1]-rec.WGSLat) > 1e-6) {
				t.Errorf("gcj02 point stored at %v, want %v,%v", d, rec.WGSLon, rec.WGSLat)
			}

			// In its requests.json entry.
			var one []Open311Request
			f.mustGet("/open311/v2/requests/"+sid+".json", "reporter", http.StatusOK).json(t, &one)
			if len(one) != 1 || one[0].ServiceRequestID != sid || one[0].Status != "open" || one[0].AddressID != rec.GridCode ||
				one[0].Address == "" || !strings.HasSuffix(one[0].RequestedDatetime, "+08:00") {
				t.Errorf("requests/%s.json: %+v", sid, one)
			}

			// And in the incidents tile at its place, with its grid.
			tile := tileAt(orb.Point{rec.WGSLon, rec.WGSLat}, 16)
			ls := decodeTile(t, f.mustGet(tilePath("incidents", tile, ""), "analyst", http.StatusOK).body)
			found := false
			for _, l := range ls {
				for _, ft := range l.Features {
					if v, _ := ft.Properties["id"].(float64); int64(v) == id {
						found = ft.Properties["grid"] == rec.GridCode
					}
				}
			}
			if !found {
				t.Errorf("request %d not in tile %v with grid %s", id, tile, rec.GridCode)
			}
		})
	}

	bad := []struct {
		name, ct, body, key string
		status              int
	}{
		{"no service code", "application/x-www-form-urlencoded", "lat=39.9&long=116.4", "reporter", 400},
		{"no location", "application/x-www-form-urlencoded", "service_code=E0102", "reporter", 400},
		{"lat not a number", "application/x-www-form-urlencoded", "service_code=E0102&lat=north&long=116.4", "reporter", 400},
		{"unknown service", "application/x-www-form-urlencoded", "service_code=X9999&lat=39.9&long=116.4", "reporter", 422},
		{"viewer may not post", "application/x-www-form-urlencoded", "service_code=E0102&lat=39.9&long=116.4", "viewer", 403},
		{"xml", "text/xml", "<r/>", "reporter", 415},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(http.MethodPost, "/open311/v2/requests.json", tc.key, tc.ct, []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			r.problem(t)
		})
	}

	t.Run("api_key parameter", func(t *testing.T) {
		body := "service_code=E0102&lat=39.91&long=116.40&api_key=" + url.QueryEscape(f.keys["reporter"])
		if r := f.do(http.MethodPost, "/open311/v2/requests.json", "", "application/x-www-form-urlencoded", []byte(body)); r.status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
}

func TestOpen311RequestsQuery(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	q := url.Values{"start_date": {"2026-10-01T00:00:00+08:00"}, "end_date": {"2026-10-31T00:00:00+08:00"},
		"service_code": {"E0102,E0103"}, "status": {"closed"}}
	var reqs []Open311Request
	f.mustGet("/open311/v2/requests.json?"+q.Encode(), "reporter", http.StatusOK).json(t, &reqs)
	from, _ := parseTime("2026-10-01T00:00:00+08:00")
	to, _ := parseTime("2026-10-31T00:00:00+08:00")
	want := 0
	for _, r := range f.city.recs {
		if (r.CategoryCode == "E0102" || r.CategoryCode == "E0103") && !r.Status.Open() && !r.ReportedAt.Before(from) && !r.ReportedAt.After(to) {
			want++
		}
	}
	if len(reqs) != want || want == 0 {
		t.Fatalf("%d requests, fixture has %d", len(reqs), want)
	}
	for i, r := range reqs {
		if r.Status != "closed" || (r.ServiceCode != "E0102" && r.ServiceCode != "E0103") {
			t.Fatalf("request %+v", r)
		}
		if i > 0 && reqs[i-1].RequestedDatetime < r.RequestedDatetime {
			t.Fatalf("not newest first at %d", i)
		}
	}
	// By ids, unknown ones left out.
	ids := reqs[0].ServiceRequestID + ",99999999," + reqs[1].ServiceRequestID + ",x"
	f.mustGet("/open311/v2/requests.json?service_request_id="+ids, "reporter", http.StatusOK).json(t, &reqs)
	if len(reqs) != 2 {
		t.Errorf("by ids: %d requests", len(reqs))
	}
	// The default window is the last 90 days: the fixture ends 2026-11-01.
	f.mustGet("/open311/v2/requests.json", "reporter", http.StatusOK).json(t, &reqs)
	if len(reqs) != open311MaxRequests {
		t.Errorf("default query gave %d requests, want the cap %d", len(reqs), open311MaxRequests)
	}
	for _, bad := range []string{"status=pending", "service_code=nope", "start_date=2026-10-31&end_date=2026-10-01", "end_date=soon"} {
		if r := f.get("/open311/v2/requests.json?"+bad, "reporter"); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}
	f.mustGet("/open311/v2/requests/99999999.json", "reporter", http.StatusNotFound)

	// start_date and end_date hold to the millisecond the stores keep, and
	// the newest comes first within a second too.
	rec := f.city.recs[0]
	posted := map[string]string{}
	// Posted out of time order, so that ids and times disagree.
	for _, at := range []string{"08:00:00.750", "08:00:00.250", "08:00:01.000"} {
		body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2025-01-05T%sZ","category":"E0102","external_id":"ms-%s"}`, rec.WGSLon, rec.WGSLat, at, at)
		r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body))
		if r.status != http.StatusCreated {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		var res IngestResult
		r.json(t, &res)
		posted[at] = fmt.Sprint(res.ID)
	}
	for _, tc := range []struct {
		start, end string
		want       []string
	}{
		{"2025-01-05T08:00:00.251Z", "2025-01-05T08:00:01Z", []string{"08:00:01.000", "08:00:00.750"}},
		{"2025-01-05T08:00:00Z", "2025-01-05T08:00:00.999Z", []string{"08:00:00.750", "08:00:00.250"}},
	} {
		q = url.Values{"start_date": {tc.start}, "end_date": {tc.end}}
		f.mustGet("/open311/v2/requests.json?"+q.Encode(), "reporter", http.StatusOK).json(t, &reqs)
		var got, want []string
		for _, r := range reqs {
			got = append(got, r.ServiceRequestID)
		}
		for _, at := range tc.want {
			want = append(want, posted[at])
		}
		if !slices.Equal(got, want) {
			t.Errorf("requests from %s to %s: %v, want %v", tc.start, tc.end, got, want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
