package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/grids"
)

// OGC API – Features, Part 1: Core, with GeoJSON, for QGIS and GDAL.
const (
	ogcPrefix       = "/ogc"
	crs84           = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	gregorian       = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
	ogcDefaultLimit = 10
	ogcMaxLimit     = 10000
	// ogcMaxOffset bounds paging by offset; deeper pages follow next links
	// with a narrower bbox or datetime.
	ogcMaxOffset = 10_000_000
	geoJSONType  = "application/geo+json"
	collGrids    = "grids"
	collIncident = "incidents"
)

func ogcConformance() []string {
	return []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	}
}

func (s *Server) ogcRoutes(r *mux.Router) {
	r.Handle(ogcPrefix, s.adapt(s.handleOGCLanding)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/", s.adapt(s.handleOGCLanding)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/conformance", s.adapt(s.handleOGCConformance)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/collections", s.adapt(s.handleOGCCollections)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/collections/{collectionId}", s.adapt(s.handleOGCCollection)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/collections/{collectionId}/items", s.adapt(s.handleOGCItems)).Methods(http.MethodGet)
	r.Handle(ogcPrefix+"/collections/{collectionId}/items/{featureId}", s.adapt(s.handleOGCItem)).Methods(http.MethodGet)
}

// GET /ogc
func (s *Server) handleOGCLanding(w http.ResponseWriter, r *http.Request) error {
	base := baseURL(r) + ogcPrefix
	w.Header().Set("Content-Type", "application/json")
	return writeJSON(w, http.StatusOK, map[string]any{
		"title":       "gridd",
		"description": "City grids and incidents of gridd as OGC API – Features.",
		"links": []Link{
			{Href: base, Rel: "self", Type: "application/json", Title: "this document"},
			{Href: base + "/conformance", Rel: "conformance", Type: "application/json", Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: "application/json", Title: "collections"},
		},
	})
}

// GET /ogc/conformance
func (s *Server) handleOGCConformance(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"conformsTo": ogcConformance()})
}

// ogcCollection describes a collection.
func (s *Server) ogcCollection(r *http.Request, id string) map[string]any {
	base := baseURL(r) + ogcPrefix + "/collections/" + id
	b := s.cityBound()
	if b.IsZero() {
		b = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	}
	c := map[string]any{
		"id":       id,
		"itemType": "feature",
		"crs":      []string{crs84},
		"links": []Link{
			{Href: base, Rel: "self", Type: "application/json"},
			{Href: base + "/items", Rel: "items", Type: geoJSONType, Title: "features"},
		},
	}
	ext := map[string]any{"spatial": map[string]any{
		"bbox": [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}, "crs": crs84,
	}}
	switch id {
	case collGrids:
		c["title"] = "Grids"
		c["description"] = "Grids of every level (district, street, community, grid) of the set in force; datetime picks the set in force then."
	case collIncident:
		c["title"] = "Incidents"
		c["description"] = "Reported incidents with category, status, grid and workflow times; datetime filters reported_at."
		if lo, hi, ok := s.reportedSpan(AccessOf(r)); ok {
			ext["temporal"] = map[string]any{
				"interval": [][2]string{{lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339)}},
				"trs":      gregorian,
			}
		}
	}
	c["extent"] = ext
	return c
}

// reportedSpan is the first and last reported_at the access sees.
func (s *Server) reportedSpan(a Access) (lo, hi time.Time, ok bool) {
	v := s.b.Columns.View()
	c := rowFilter{from: math.MinInt64, to: math.MaxInt64, prefix: a.Scope}.compile(v)
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for i := 0; i < v.Len(); i++ {
		if a.Scope != "" && !c.match(i) {
			continue
		}
		t := v.ReportedAt(i)
		first, last = min(first, t), max(last, t)
	}
	if first > last {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(first, 0), time.Unix(last, 0), true
}

// ogcCollections are the collections the access may read.
func ogcCollections(a Access) []string {
	if a.Can(RoleReporter) {
		return []string{collGrids, collIncident}
	}
	return []string{collGrids}
}

func checkCollection(id string, a Access) error {
	switch id {
	case collGrids:
		return nil
	case collIncident:
		if !a.Can(RoleReporter) {
			return problem(http.StatusForbidden, "the incidents collection needs the reporter role")
		}
		return nil
	}
	return notFound("no collection %q (want grids or incidents)", id)
}

// GET /ogc/collections
func (s *Server) handleOGCCollections(w http.ResponseWriter, r *http.Request) error {
	base := baseURL(r) + ogcPrefix + "/collections"
	var cs []map[string]any
	for _, id := range ogcCollections(AccessOf(r)) {
		cs = append(cs, s.ogcCollection(r, id))
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"links":       []Link{{Href: base, Rel: "self", Type: "application/json"}},
		"collections": cs,
	})
}

// GET /ogc/collections/{collectionId}
func (s *Server) handleOGCCollection(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["collectionId"]
	if err := checkCollection(id, AccessOf(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.ogcCollection(r, id))
}

// ogcInterval is a datetime parameter: an instant or a closed interval
// with ".." (or nothing) for an open end.
type ogcInterval struct {
	start, end *time.Time
	instant    bool
}

func parseOGCDatetime(s string) (ogcInterval, error) {
	var iv ogcInterval
	parse := func(x string) (*time.Time, error) {
		if x == "" || x == ".." {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, badRequest("parameter datetime: %q is not an RFC 3339 time", x)
		}
		return &t, nil
	}
	a, b, isInterval := strings.Cut(s, "/")
	var err error
	if !isInterval {
		if a == ".." || a == "" {
			return iv, badRequest("parameter datetime: an instant must be a time")
		}
		iv.start, err = parse(a)
		iv.end, iv.instant = iv.start, true
		return iv, err
	}
	if iv.start, err = parse(a); err != nil {
		return iv, err
	}
	if iv.end, err = parse(b); err != nil {
		return iv, err
	}
	if iv.start != nil && iv.end != nil && iv.end.Before(*iv.start) {
		return iv, badRequest("parameter datetime: the end is before the start")
	}
	return iv, nil
}

// ogcPage reads limit and offset.
func ogcPage(q *query) (limit, offset int) {
	limit = q.int("limit", ogcDefaultLimit, 1, math.MaxInt32)
	// Larger limits are clamped, as the standard lets servers do.
	limit = min(limit, ogcMaxLimit)
	offset = q.int("offset", 0, 0, ogcMaxOffset)
	return limit, offset
}

// ogcFeatureCollection is an items response.
type ogcFeatureCollection struct {
	Type           string    `json:"type"`
	Features       []any     `json:"features"`
	NumberMatched  int       `json:"numberMatched"`
	NumberReturned int       `json:"numberReturned"`
	TimeStamp      time.Time `json:"timeStamp"`
	Links          []Link    `json:"links"`
}

// pageLinks are the self, next and prev links of an items page.
func pageLinks(r *http.Request, offset, limit, returned, matched int) []Link {
	self := baseURL(r) + r.URL.Path
	v := r.URL.Query()
	links := []Link{{Href: withQuery(self, v), Rel: "self", Type: geoJSONType}}
	if offset+returned < matched {
		n := r.URL.Query()
		n.Set("offset", strconv.Itoa(offset+returned))
		n.Set("limit", strconv.Itoa(limit))
		links = append(links, Link{Href: withQuery(self, n), Rel: "next", Type: geoJSONType, Title: "next page"})
	}
	if offset > 0 {
		p := r.URL.Query()
		p.Set("offset", strconv.Itoa(max(0, offset-limit)))
		p.Set("limit", strconv.Itoa(limit))
		links = append(links, Link{Href: withQuery(self, p), Rel: "prev", Type: geoJSONType, Title: "previous page"})
	}
	collection := strings.TrimSuffix(self, "/items")
	links = append(links, Link{Href: collection, Rel: "collection", Type: "application/json"})
	return links
}

// GET /ogc/collections/{collectionId}/items?bbox=&limit=&offset=&datetime=
func (s *Server) handleOGCItems(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["collectionId"]
	a := AccessOf(r)
	if err := checkCollection(id, a); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	box, hasBox := q.bbox("bbox")
	if crs := q.str("bbox-crs"); crs != "" && crs != crs84 {
		q.fail("bbox-crs", "only %s is supported", crs84)
	}
	limit, offset := ogcPage(q)
	var iv ogcInterval
	if dt := q.str("datetime"); dt != "" && q.err == nil {
		var err error
		if iv, err = parseOGCDatetime(dt); err != nil {
			return err
		}
	}
	if q.err != nil {
		return q.err
	}
	fc := ogcFeatureCollection{Type: "FeatureCollection", Features: []any{}, TimeStamp: time.Now().UTC().Truncate(time.Second)}
	switch id {
	case collGrids:
		at := time.Now()
		switch {
		case iv.instant:
			at = *iv.start
		case iv.end != nil:
			at = *iv.end
		}
		ix, err := s.indexAt(at, true)
		if err != nil {
			return err
		}
		for _, g := range ix.Set().Grids {
			if hasBox && !gridIntersects(g, box) {
				continue
			}
			if fc.NumberMatched >= offset && len(fc.Features) < limit {
				fc.Features = append(fc.Features, gridFeature(g))
			}
			fc.NumberMatched++
		}
	case collIncident:
		f := rowFilter{from: math.MinInt64, to: math.MaxInt64, prefix: a.Scope}
		if hasBox {
			f.bbox = &box
		}
		if iv.start != nil {
			f.from = iv.start.UnixMilli()
		}
		if iv.end != nil {
			f.to = iv.end.UnixMilli() + 1 // closed interval, to the stores' millisecond
		}
		v := s.b.Columns.View()
		rows, matched, err := selectRows(r.Context(), v, f, offset, limit)
		if err != nil {
			return err
		}
		ids := rowIDs(v, rows)
		incs, err := s.b.hydrate(r.Context(), ids)
		if err != nil {
			return err
		}
		for _, inc := range incs {
			fc.Features = append(fc.Features, incidentFeature(inc, s.b.Catalogue, a, false))
		}
		fc.NumberMatched = matched
	}
	fc.NumberReturned = len(fc.Features)
	fc.Links = pageLinks(r, offset, limit, fc.NumberReturned, fc.NumberMatched)
	w.Header().Set("Content-Type", geoJSONType)
	return writeJSON(w, http.StatusOK, fc)
}

// gridIntersects tells whether a grid's polygons meet box.
func gridIntersects(g *grids.Grid, box orb.Bound) bool {
	if !g.Bound().Intersects(box) {
		return false
	}
	gb := g.Bound()
	if box.Contains(gb.Min) && box.Contains(gb.Max) {
		return true
	}
	return len(clip.MultiPolygon(box, g.Geometry.Clone())) > 0
}

// GET /ogc/collections/{collectionId}/items/{featureId}
func (s *Server) handleOGCItem(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	id, fid := vars["collectionId"], vars["featureId"]
	a := AccessOf(r)
	if err := checkCollection(id, a); err != nil {
		return err
	}
	base := baseURL(r) + r.URL.Path
	links := []Link{
		{Href: base, Rel: "self", Type: geoJSONType},
		{Href: baseURL(r) + ogcPrefix + "/collections/" + id, Rel: "collection", Type: "application/json"},
	}
	w.Header().Set("Content-Type", geoJSONType)
	switch id {
	case collGrids:
		ix, err := s.indexAt(time.Time{}, false)
		if err != nil {
			return err
		}
		g := ix.Grid(fid)
		if g == nil {
			return notFound("no grid %q", fid)
		}
		f := gridFeature(g)
		// geojson.Feature keeps no foreign members: spell the feature out.
		return writeJSON(w, http.StatusOK, map[string]any{
			"type": "Feature", "id": g.Code, "geometry": geojson.NewGeometry(f.Geometry),
			"properties": f.Properties, "links": links,
		})
	default:
		n, err := strconv.ParseInt(fid, 10, 64)
		if err != nil || n <= 0 {
			return notFound("no incident %q", fid)
		}
		inc, err := s.getIncident(r.Context(), a, n)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, struct {
			IncidentFeature
			Links []Link `json:"links"`
		}{incidentFeature(inc, s.b.Catalogue, a, false), links})
	}
}
