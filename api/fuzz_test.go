package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut}

var fuzzTypes = []string{"", "application/json", "application/x-ndjson", "text/csv", "application/geo+json",
	"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"}

// FuzzRouter sends arbitrary paths, queries and bodies through the whole
// router (open mode: every handler is reachable) and requires that none
// answers 500: bad input is the client's error, never the server's.
func FuzzRouter(f *testing.F) {
	fx := newFixture(f, fixtureOptions{open: true})
	fx.srv.opt.RequestTimeout = 10e9
	seeds := []struct {
		method int
		target string
		ctype  int
		body   string
	}{
		{0, "/api/v1/incidents?bbox=116.3,39.8,116.5,40&from=2026-09-01&to=2026-10-01&category=E0102&grid=110101&status=closed&limit=5", 0, ""},
		{0, "/api/v1/incidents?cursor=MTc3NjM4OTY4MDAwMDAwMDAwMDoxMg", 0, ""},
		{0, "/api/v1/incidents/12", 0, ""},
		{2, "/api/v1/incidents/12", 1, `{"status":"filed","note":"x","at":"2026-11-20T10:00:00+08:00"}`},
		{2, "/api/v1/incidents/13", 1, `{"deadline":"2027-01-01T00:00:00Z"}`},
		{1, "/api/v1/incidents", 1, `{"lon":116.4,"lat":39.91,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102","external_id":"f1"}`},
		{1, "/api/v1/incidents", 2, `{"lon":116.4,"lat":39.91,"reported_at":"2026-11-20T09:30:00+08:00","category":"市容环境/暴露垃圾"}` + "\n" + `{"lon":"x"}`},
		{1, "/api/v1/incidents", 3, "lon,lat,reported_at,category,status,filed_at\n116.4,39.91,2026-11-20T09:30:00Z,E0102,filed,2026-11-20T10:00:00Z\n"},
		{1, "/api/v1/incidents", 4, `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[116.4,39.91]},"properties":{"reported_at":"2026-11-20T09:30:00Z","category":"E0102"}}]}`},
		{0, "/api/v1/grids?bbox=116.3,39.8,116.5,40&level=grid&parent=110101001&at=2026-01-01", 0, ""},
		{0, "/api/v1/geocode?lon=116.4&lat=39.91&crs=gcj02&snap_m=10", 0, ""},
		{1, "/api/v1/geocode", 1, `{"crs":"bd09","points":[{"id":"a","lon":116.4,"lat":39.91},{"id":"b"}]}`},
		{0, "/tiles/grids/14/13489/6208.mvt?from=2026-09-01&to=2026-10-01&category=E0102", 0, ""},
		{0, "/tiles/heat/12/3372/1552.mvt?shape=points", 0, ""},
		{0, "/tiles/incidents/16/53951/24834.mvt", 0, ""},
		{0, "/tiles/hotspots/12/3372/1552.mvt?cell_m=400", 0, ""},
		{0, "/tiles/heat.json?from=2026-09-01", 0, ""},
		{0, "/styles/dashboard.json?category=E0102", 0, ""},
		{0, "/ogc/collections/incidents/items?bbox=116.3,39.8,116.5,40&datetime=2026-09-01T00:00:00Z/..&limit=3&offset=2", 0, ""},
		{0, "/ogc/collections/grids/items/110101001001001", 0, ""},
		{0, "/open311/v2/requests.json?service_code=E0102,E0103&status=open,closed&start_date=2026-09-01&end_date=2026-10-01", 0, ""},
		{1, "/open311/v2/requests.json", 5, "service_code=E0102&lat=39.91&long=116.4&description=x&crs=gcj02"},
		{1, "/open311/v2/requests.json", 1, `{"service_code":"E0102","lat":39.91,"long":116.4}`},
		{0, "/open311/v2/requests/5.json", 0, ""},
		{0, "/api/v1/hotspots?from=2026-09-01&to=2026-11-01&cell_m=500", 0, ""},
		{0, "/api/v1/stats/grids?from=2026-09-01&to=2026-11-01&level=street", 0, ""},
		{0, "/api/v1/emerging?from=2026-08-01&to=2026-11-01&step=week&cell_m=1000", 0, ""},
		{0, "/api/v1/alerts?at=2026-11-01", 0, ""},
	}
	for _, s := range seeds {
		f.Add(uint8(s.method), s.target, uint8(s.ctype), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method uint8, target string, ctype uint8, body []byte) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], u.String(), bytes.NewReader(body))
		if err != nil {
			return
		}
		req.RequestURI = u.RequestURI()
		if ct := fuzzTypes[int(ctype)%len(fuzzTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s (%s, %q): status %d: %s", req.Method, target, req.Header.Get("Content-Type"), body, rec.Code, rec.Body.String())
		}
	})
}
