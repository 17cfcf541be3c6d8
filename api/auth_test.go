package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/store"
)

func TestParseRoleAndScope(t *testing.T) {
	for _, r := range Roles() {
		got, err := ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole accepted root")
	}
	tests := []struct {
		name, scope, requested string
		prefix                 string
		ok                     bool
	}{
		{"no scope", "", "110101", "110101", true},
		{"no scope, all", "", "", "", true},
		{"inside", "110101001", "110101001002", "110101001002", true},
		{"ancestor asked", "110101001", "110101", "110101001", true},
		{"all asked", "110101001", "", "110101001", true},
		{"other street", "110101001", "110101002", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := Access{Scope: tc.scope}.GridPrefix(tc.requested)
			if p != tc.prefix || ok != tc.ok {
				t.Errorf("GridPrefix = %q, %v; want %q, %v", p, ok, tc.prefix, tc.ok)
			}
		})
	}
	if (Access{Scope: "110101001"}).Sees("") {
		t.Error("a scoped key sees unassigned incidents")
	}
}

func TestNewKey(t *testing.T) {
	a, ka, err := NewKey(RoleReporter, "110101001", "street office", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, kb, err := NewKey(RoleReporter, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a == b || ka.ID == kb.ID || !strings.HasPrefix(a, keyPrefix) || len(a) < len(keyPrefix)+43 {
		t.Errorf("keys %q %q ids %q %q", a, b, ka.ID, kb.ID)
	}
	if !bytes.Equal(ka.Hash, HashKey(a)) || bytes.Contains(ka.Hash, []byte(a)) || ka.Role != "reporter" || ka.Scope != "110101001" {
		t.Errorf("record %+v", ka)
	}
	for _, bad := range []string{"1101", "11010100x", "1234567"} {
		if _, _, err := NewKey(RoleViewer, bad, "", time.Now()); err == nil {
			t.Errorf("scope %q accepted", bad)
		}
	}
	if _, _, err := NewKey(RoleNone, "", "", time.Now()); err == nil {
		t.Error("role none accepted")
	}
}

// TestRoleMatrix sends every class of request with every role: each is let
// through from its least role on and refused (403) below it; no key or an
// unknown one is 401. Requests are built so that a let-through answer does
// not change data (a workflow move the workflow refuses, an invalid body).
func TestRoleMatrix(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ct := cityTile(t, f.city)
	id := strconv.Itoa(1)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		least       Role
	}{
		{"healthz", "GET", "/healthz", "", "", RoleNone},
		{"readyz", "GET", "/readyz", "", "", RoleNone},
		{"metrics", "GET", "/metrics", "", "", RoleNone},
		{"grids list", "GET", "/api/v1/grids?level=street", "", "", RoleViewer},
		{"grid", "GET", "/api/v1/grids/" + f.city.city[0].Code, "", "", RoleViewer},
		{"geocode", "GET", "/api/v1/geocode?lon=116.4&lat=39.91", "", "", RoleViewer},
		{"geocode batch", "POST", "/api/v1/geocode", "application/json", `{"points":[{"lon":116.4,"lat":39.91}]}`, RoleViewer},
		{"incidents list", "GET", "/api/v1/incidents?limit=2", "", "", RoleViewer},
		{"incident", "GET", "/api/v1/incidents/" + id, "", "", RoleViewer},
		{"incidents post", "POST", "/api/v1/incidents", "application/json", `{"lon":1}`, RoleReporter},
		{"incident patch", "PATCH", "/api/v1/incidents/" + id, "application/json", `{"status":"reported"}`, RoleAnalyst},
		{"grids tile", "GET", tilePath("grids", ct, ""), "", "", RoleViewer},
		{"heat tile", "GET", tilePath("heat", ct, ""), "", "", RoleViewer},
		{"hotspots tile", "GET", tilePath("hotspots", ct, "cell_m=1000"), "", "", RoleViewer},
		{"incidents tile", "GET", tilePath("incidents", ct, ""), "", "", RoleReporter},
		{"tilejson", "GET", "/tiles/grids.json", "", "", RoleViewer},
		{"incidents tilejson", "GET", "/tiles/incidents.json", "", "", RoleReporter},
		{"style", "GET", "/styles/dashboard.json", "", "", RoleViewer},
		{"ogc landing", "GET", "/ogc", "", "", RoleViewer},
		{"ogc collections", "GET", "/ogc/collections", "", "", RoleViewer},
		{"ogc grids", "GET", "/ogc/collections/grids/items?limit=1", "", "", RoleViewer},
		{"ogc incidents", "GET", "/ogc/collections/incidents/items?limit=1", "", "", RoleReporter},
		{"ogc incident", "GET", "/ogc/collections/incidents/items/" + id, "", "", RoleReporter},
		{"open311 discovery", "GET", "/open311/v2/discovery.json", "", "", RoleNone},
		{"open311 services", "GET", "/open311/v2/services.json", "", "", RoleViewer},
		{"open311 requests", "GET", "/open311/v2/requests.json?service_request_id=" + id, "", "", RoleReporter},
		{"open311 request", "GET", "/open311/v2/requests/" + id + ".json", "", "", RoleReporter},
		{"open311 post", "POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded", "lat=1", RoleReporter},
		{"hotspots", "GET", "/api/v1/hotspots?cell_m=1000", "", "", RoleViewer},
		{"emerging", "GET", "/api/v1/emerging?cell_m=1000", "", "", RoleAnalyst},
		{"alerts", "GET", "/api/v1/alerts", "", "", RoleAnalyst},
		{"stats", "GET", "/api/v1/stats/grids", "", "", RoleAnalyst},
		{"gridsets", "GET", "/api/v1/gridsets", "", "", RolePlanner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send := func(key string) response {
				return f.do(tc.method, tc.path, key, tc.contentType, []byte(tc.body))
			}
			if r := send("admin"); r.status == http.StatusNotFound && r.header.Get("Content-Type") == "application/problem+json" &&
				strings.Contains(string(r.body), "no such endpoint") {
				t.Fatalf("%s is not routed", tc.path)
			}
			for _, role := range Roles() {
				r := send(role.String())
				switch {
				case role < tc.least && r.status != http.StatusForbidden:
					t.Errorf("%s: status %d, want 403", role, r.status)
				case role >= tc.least && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || r.status >= 500):
					t.Errorf("%s: status %d: %s", role, r.status, truncate(r.body))
				}
			}
			for _, key := range []string{"", "gridd_not-a-key"} {
				r := send(key)
				if tc.least == RoleNone {
					if r.status >= 400 && r.status != http.StatusServiceUnavailable {
						t.Errorf("public endpoint without a key: status %d", r.status)
					}
					continue
				}
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("key %q: status %d, WWW-Authenticate %q", key, r.status, r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

func TestOpenModeAndRevocation(t *testing.T) {
	f := newFixture(t, fixtureOptions{open: true})
	if r := f.get("/api/v1/incidents/1", ""); r.status != http.StatusOK {
		t.Errorf("open mode without a key: status %d", r.status)
	}
	var feat IncidentFeature
	f.get("/api/v1/incidents/1", "").json(t, &feat)
	if feat.Geometry == nil {
		t.Error("open mode is not admin")
	}

	g := newFixture(t, fixtureOptions{})
	secret, k, err := NewKey(RoleViewer, "", "to revoke", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.st.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if r := g.get("/api/v1/grids?level=district", secret); r.status != http.StatusOK {
		t.Fatalf("new key: status %d", r.status)
	}
	if err := g.st.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	// Within KeyCacheTTL the server may still trust the key; a fresh server
	// asks the store.
	g.srv.keys = keyCache{}
	if r := g.get("/api/v1/grids?level=district", secret); r.status != http.StatusUnauthorized {
		t.Errorf("revoked key: status %d", r.status)
	}
	var _ store.Key = k
}

// TestScopeIsolation: a street office's key never learns of another
// street's incident, whatever it asks.
func TestScopeIsolation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cd := f.city
	a, b := cd.streetA, cd.streetB
	// Find the stored ids of a few of street B's incidents.
	var page IncidentCollection
	f.mustGet("/api/v1/incidents?limit=10000&grid="+b, "admin", http.StatusOK).json(t, &page)
	if len(page.Features) == 0 {
		t.Fatal("street B has no incidents")
	}
	other := page.Features[0]
	oid := strconv.FormatInt(other.ID, 10)
	wantA := len(cd.recsIn(a))

	t.Run("lists", func(t *testing.T) {
		for _, q := range []string{"limit=10000", "limit=10000&grid=" + b, "limit=10000&grid=" + b[:6], "limit=10000&grid=" + b + "001"} {
			var p IncidentCollection
			f.mustGet("/api/v1/incidents?"+q, "a-reporter", http.StatusOK).json(t, &p)
			for _, ft := range p.Features {
				if !strings.HasPrefix(ft.Properties.GridCode, a) {
					t.Fatalf("%s: got incident %d of grid %s", q, ft.ID, ft.Properties.GridCode)
				}
			}
			if q == "limit=10000" && len(p.Features) != wantA {
				t.Errorf("own street: %d incidents, fixture has %d", len(p.Features), wantA)
			}
		}
	})

	t.Run("single items are not found", func(t *testing.T) {
		for _, key := range []string{"a-viewer", "a-reporter", "a-analyst", "a-admin"} {
			r := f.get("/api/v1/incidents/"+oid, key)
			missing := f.get("/api/v1/incidents/99999999", key)
			if r.status != http.StatusNotFound || missing.status != http.StatusNotFound {
				t.Errorf("%s: other street's incident %d, a missing one %d", key, r.status, missing.status)
			}
			// The answer must not tell an existing id from a missing one.
			if strings.Replace(string(r.body), oid, "X", -1) != strings.Replace(string(missing.body), "99999999", "X", -1) {
				t.Errorf("%s: answers differ: %s vs %s", key, r.body, missing.body)
			}
		}
		if r := f.do(http.MethodPatch, "/api/v1/incidents/"+oid, "a-analyst", "application/json", []byte(`{"status":"filed"}`)); r.status != http.StatusNotFound {
			t.Errorf("PATCH of another street's incident: status %d", r.status)
		}
		f.mustGet("/api/v1/incidents/"+oid, "b-reporter", http.StatusOK)
	})

	t.Run("posting outside the scope", func(t *testing.T) {
		rec := cd.recsIn(b)[0]
		body := fmt.Sprintf(`{"lon":%v,"lat":%v,"reported_at":"2026-11-20T09:30:00+08:00","category":"E0102"}`, rec.WGSLon, rec.WGSLat)
		r := f.do(http.MethodPost, "/api/v1/incidents", "a-reporter", "application/json", []byte(body))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		form := fmt.Sprintf("service_code=E0102&lat=%v&long=%v", rec.WGSLat, rec.WGSLon)
		if r := f.do(http.MethodPost, "/open311/v2/requests.json", "a-reporter", "application/x-www-form-urlencoded", []byte(form)); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("open311: status %d: %s", r.status, r.body)
		}
	})

	t.Run("tiles", func(t *testing.T) {
		ct := cityTile(t, cd)
		// Clusters and heat of the whole city add up to the street's own.
		for _, layer := range []string{"incidents", "heat"} {
			ls := decodeTile(t, f.mustGet(tilePath(layer, ct, ""), "a-analyst", http.StatusOK).body)
			if got := sumProp(ls, layer, "count"); got != wantA {
				t.Errorf("%s tile holds %d incidents, street A has %d", layer, got, wantA)
			}
		}
		// Single incidents near B's incident are all A's.
		tile := tileAt(orbPoint(other), 16)
		ls := decodeTile(t, f.get(tilePath("incidents", tile, ""), "a-analyst").body)
		for _, l := range ls {
			for _, ft := range l.Features {
				if g, _ := ft.Properties["grid"].(string); !strings.HasPrefix(g, a) {
					t.Fatalf("incidents tile shows grid %s", g)
				}
			}
		}
		// Grid counts show only A's incidents.
		ls = decodeTile(t, f.mustGet(tilePath("grids", tileAt(orbPoint(other), 14), ""), "a-analyst", http.StatusOK).body)
		for _, l := range ls {
			for _, ft := range l.Features {
				code, _ := ft.Properties["code"].(string)
				if c, _ := ft.Properties["count"].(float64); c > 0 && !strings.HasPrefix(code, a) && !strings.HasPrefix(a, code) {
					t.Fatalf("grid %s shows count %v", code, c)
				}
			}
		}
		// Hotspot cells cover A's street only: they count A's incidents.
		ls = decodeTile(t, f.mustGet(tilePath("hotspots", ct, "cell_m=500"), "a-analyst", http.StatusOK).body)
		if got := sumProp(ls, "hotspots", "count"); got > wantA {
			t.Errorf("hotspot cells hold %d incidents, street A has %d", got, wantA)
		}
	})

	t.Run("ogc", func(t *testing.T) {
		var p struct {
			NumberMatched int               `json:"numberMatched"`
			Features      []IncidentFeature `json:"features"`
		}
		f.mustGet("/ogc/collections/incidents/items?limit=10000", "a-reporter", http.StatusOK).json(t, &p)
		if p.NumberMatched != wantA || len(p.Features) != wantA {
			t.Errorf("OGC matched %d, returned %d, street A has %d", p.NumberMatched, len(p.Features), wantA)
		}
		for _, ft := range p.Features {
			if !strings.HasPrefix(ft.Properties.GridCode, a) {
				t.Fatalf("OGC shows grid %s", ft.Properties.GridCode)
			}
		}
		f.mustGet("/ogc/collections/incidents/items/"+oid, "a-reporter", http.StatusNotFound)
	})

	t.Run("open311", func(t *testing.T) {
		var reqs []Open311Request
		f.mustGet("/open311/v2/requests.json?start_date=2025-01-01&end_date=2027-01-01", "a-reporter", http.StatusOK).json(t, &reqs)
		if len(reqs) != min(wantA, open311MaxRequests) {
			t.Errorf("%d requests, street A has %d", len(reqs), wantA)
		}
		for _, r := range reqs {
			if !strings.HasPrefix(r.AddressID, a) {
				t.Fatalf("open311 shows grid %s", r.AddressID)
			}
		}
		f.mustGet("/open311/v2/requests.json?service_request_id="+oid, "a-reporter", http.StatusOK).json(t, &reqs)
		if len(reqs) != 0 {
			t.Errorf("open311 by id shows %+v", reqs)
		}
		f.mustGet("/open311/v2/requests/"+oid+".json", "a-reporter", http.StatusNotFound)
	})

	t.Run("stats", func(t *testing.T) {
		r := f.get("/api/v1/stats/grids?from=2025-01-01&to=2027-01-01", "a-analyst")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, truncate(r.body))
		}
		if strings.Contains(string(r.body), `"`+b) {
			t.Errorf("stats name street B's grids")
		}
	})
}

func orbPoint(f IncidentFeature) orb.Point {
	return orb.Point(f.Geometry.Coordinates)
}
