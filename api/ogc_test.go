package api

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ogrinfoOAPIF runs ogrinfo on a collection of the server's OGC API, with
// key's secret in GDAL's HTTP headers.
func ogrinfoOAPIF(t *testing.T, f *fixture, key, layer string, extra ...string) string {
	t.Helper()
	args := append([]string{"-ro", "-so"}, extra...)
	args = append(args, "OAPIF:"+f.http.URL+"/ogc", layer)
	cmd := exec.Command("ogrinfo", args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_HEADERS=Authorization: Bearer "+f.keys[key], "CPL_DEBUG=OFF")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func featureCount(t *testing.T, out string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Feature Count: (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no feature count in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestOGCReadByGDAL lists the collections with GDAL's OAPIF driver against
// a real listener on loopback.
func TestOGCReadByGDAL(t *testing.T) {
	requireGDAL(t)
	f := newFixture(t, fixtureOptions{})
	out := ogrinfoOAPIF(t, f, "viewer", "grids")
	if n := featureCount(t, out); n != len(f.city.city) {
		t.Errorf("ogrinfo counts %d grids, the city has %d\n%s", n, len(f.city.city), out)
	}
	for _, field := range []string{"code: String", "name: String", "level: String"} {
		if !strings.Contains(out, field) {
			t.Errorf("ogrinfo lists no field %q\n%s", field, out)
		}
	}
	out = ogrinfoOAPIF(t, f, "reporter", "incidents")
	if n := featureCount(t, out); n != len(f.city.recs) {
		t.Errorf("ogrinfo counts %d incidents, want %d", n, len(f.city.recs))
	}
	// A street office sees its street only, through GDAL too.
	out = ogrinfoOAPIF(t, f, "a-reporter", "incidents")
	if n, want := featureCount(t, out), len(f.city.recsIn(f.city.streetA)); n != want {
		t.Errorf("scoped ogrinfo counts %d incidents, the street has %d", n, want)
	}
}

func TestOGCEndpoints(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var landing struct {
		Links []Link `json:"links"`
	}
	f.mustGet("/ogc", "viewer", http.StatusOK).json(t, &landing)
	rels := map[string]string{}
	for _, l := range landing.Links {
		rels[l.Rel] = l.Href
	}
	if rels["conformance"] != f.http.URL+"/ogc/conformance" || rels["data"] != f.http.URL+"/ogc/collections" || rels["self"] == "" {
		t.Errorf("landing links %v", rels)
	}
	var conf struct {
		ConformsTo []string `json:"conformsTo"`
	}
	f.mustGet("/ogc/conformance", "viewer", http.StatusOK).json(t, &conf)
	if len(conf.ConformsTo) != 2 || !strings.HasSuffix(conf.ConformsTo[0], "/conf/core") {
		t.Errorf("conformsTo %v", conf.ConformsTo)
	}
	var colls struct {
		Collections []struct {
			ID string `json:"id"`
		} `json:"collections"`
	}
	f.mustGet("/ogc/collections", "viewer", http.StatusOK).json(t, &colls)
	if len(colls.Collections) != 1 || colls.Collections[0].ID != "grids" {
		t.Errorf("viewer collections %+v", colls.Collections)
	}
	f.mustGet("/ogc/collections", "reporter", http.StatusOK).json(t, &colls)
	if len(colls.Collections) != 2 {
		t.Errorf("reporter collections %+v", colls.Collections)
	}

	type page struct {
		Features []struct {
			ID         any            `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		NumberMatched  int    `json:"numberMatched"`
		NumberReturned int    `json:"numberReturned"`
		Links          []Link `json:"links"`
	}
	// Paging through every grid by next links returns each once.
	seen := map[string]bool{}
	path := "/ogc/collections/grids/items?limit=70"
	for path != "" {
		var p page
		r := f.mustGet(path, "viewer", http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/geo+json" {
			t.Fatalf("items Content-Type %q", ct)
		}
		r.json(t, &p)
		if p.NumberMatched != len(f.city.city) || p.NumberReturned != len(p.Features) {
			t.Fatalf("numberMatched %d numberReturned %d of %d features", p.NumberMatched, p.NumberReturned, len(p.Features))
		}
		path = ""
		for _, ft := range p.Features {
			code := ft.ID.(string)
			if seen[code] {
				t.Fatalf("grid %s twice", code)
			}
			seen[code] = true
		}
		for _, l := range p.Links {
			if l.Rel == "next" {
				u, _ := url.Parse(l.Href)
				path = u.RequestURI()
			}
		}
	}
	if len(seen) != len(f.city.city) {
		t.Errorf("paged %d grids of %d", len(seen), len(f.city.city))
	}

	// datetime filters incidents by reported_at, a closed interval.
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC)
	want := 0
	for _, r := range f.city.recs {
		if !r.ReportedAt.Before(from) && !r.ReportedAt.After(to) {
			want++
		}
	}
	var p page
	f.mustGet("/ogc/collections/incidents/items?limit=5&offset=3&datetime="+from.Format(time.RFC3339)+"/"+to.Format(time.RFC3339), "reporter", http.StatusOK).json(t, &p)
	if p.NumberMatched != want || want == 0 || p.NumberReturned != 5 {
		t.Errorf("datetime: matched %d returned %d, fixture has %d", p.NumberMatched, p.NumberReturned, want)
	}
	rels = map[string]string{}
	for _, l := range p.Links {
		rels[l.Rel] = l.Href
	}
	if !strings.Contains(rels["next"], "offset=8") || !strings.Contains(rels["prev"], "offset=0") {
		t.Errorf("links %v", rels)
	}

	// The interval's ends hold to the millisecond the stores keep.
	rec := f.city.recs[0]
	for _, at := range []string{"08:00:00.250", "08:00:00.750", "08:00:01.000"} {
		body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2025-01-05T%sZ","category":"E0102","external_id":"ms-%s"}`, rec.WGSLon, rec.WGSLat, at, at)
		if r := f.do(http.MethodPost, "/api/v1/incidents", "reporter", "application/json", []byte(body)); r.status != http.StatusCreated {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
	}
	for _, tc := range []struct {
		datetime string
		want     int
	}{
		{"2025-01-05T08:00:00.250Z", 1},
		{"2025-01-05T08:00:00.251Z/2025-01-05T08:00:01Z", 2},
		{"2025-01-05T08:00:00Z/2025-01-05T08:00:00.750Z", 2},
		{"2025-01-05T08:00:00.751Z/2025-01-05T08:00:00.999Z", 0},
	} {
		var p page
		f.mustGet("/ogc/collections/incidents/items?datetime="+url.QueryEscape(tc.datetime), "reporter", http.StatusOK).json(t, &p)
		if p.NumberMatched != tc.want {
			t.Errorf("datetime=%s: matched %d, want %d", tc.datetime, p.NumberMatched, tc.want)
		}
	}

	// bbox keeps the grids that meet the box.
	g := f.city.city[len(f.city.city)-1]
	c := g.Bound().Center()
	box := strconv.FormatFloat(c[0]-1e-5, 'f', -1, 64) + "," + strconv.FormatFloat(c[1]-1e-5, 'f', -1, 64) + "," +
		strconv.FormatFloat(c[0]+1e-5, 'f', -1, 64) + "," + strconv.FormatFloat(c[1]+1e-5, 'f', -1, 64)
	f.mustGet("/ogc/collections/grids/items?limit=1000&bbox="+box, "viewer", http.StatusOK).json(t, &p)
	if p.NumberMatched < 1 || p.NumberMatched > 8 {
		t.Errorf("a tiny bbox matched %d grids", p.NumberMatched)
	}

	var item struct {
		ID    string `json:"id"`
		Links []Link `json:"links"`
	}
	f.mustGet("/ogc/collections/grids/items/"+g.Code, "viewer", http.StatusOK).json(t, &item)
	if item.ID != g.Code || len(item.Links) != 2 {
		t.Errorf("item %+v", item)
	}

	bad := []struct {
		name, path, key string
		status          int
	}{
		{"no such grid", "/ogc/collections/grids/items/nope", "viewer", 404},
		{"no such incident", "/ogc/collections/incidents/items/99999999", "reporter", 404},
		{"no such collection", "/ogc/collections/roads", "viewer", 404},
		{"viewer incidents", "/ogc/collections/incidents/items", "viewer", 403},
		{"bad datetime", "/ogc/collections/incidents/items?datetime=yesterday", "reporter", 400},
		{"inverted datetime", "/ogc/collections/incidents/items?datetime=2026-10-08T00:00:00Z/2026-10-01T00:00:00Z", "reporter", 400},
		{"bad bbox", "/ogc/collections/grids/items?bbox=1,2,3", "viewer", 400},
		{"bad limit", "/ogc/collections/grids/items?limit=0", "viewer", 400},
		{"bad offset", "/ogc/collections/grids/items?offset=-1", "viewer", 400},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(tc.path, tc.key)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			r.problem(t)
		})
	}
}
