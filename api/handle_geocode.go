package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
)

// GridRef is a grid as geocode answers name it.
type GridRef struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	Department string `json:"department,omitempty"`
}

func ref(g *grids.Grid) *GridRef {
	if g == nil {
		return nil
	}
	return &GridRef{Code: g.Code, Name: g.Name, Level: g.Level.String(), Department: g.Department}
}

// GeocodeResult answers one point.
type GeocodeResult struct {
	ID        string     `json:"id,omitempty"`
	Lon       float64    `json:"lon"`
	Lat       float64    `json:"lat"`
	Status    string     `json:"status"`
	DistanceM float64    `json:"distance_m,omitempty"`
	Grid      *GridRef   `json:"grid"`
	Ancestors []*GridRef `json:"ancestors,omitempty"`
	SetID     int64      `json:"set_id,omitempty"`
	Error     string     `json:"error,omitempty"`
}

const maxSnapM = 5000

func (s *Server) indexAt(at time.Time, given bool) (*grids.Index, error) {
	if !given {
		at = time.Now()
	}
	ix, err := s.reg.At(at)
	if errors.Is(err, grids.ErrNoSet) {
		return nil, notFound("no grid set is in force at %s", at.Format(time.RFC3339))
	}
	return ix, err
}

func (s *Server) geocodeOne(ix *grids.Index, c geo.CRS, id string, lon, lat, snapM float64) GeocodeResult {
	res := GeocodeResult{ID: id, Lon: lon, Lat: lat}
	if !validLonLat(lon, lat) {
		res.Status, res.Error = "invalid", "lon must be within -180..180 and lat within -90..90"
		return res
	}
	wlon, wlat := geo.ToWGS84(c, lon, lat)
	m := ix.Locate(wlon, wlat, snapM)
	res.Lon, res.Lat = wlon, wlat
	res.Status = m.Status.String()
	res.DistanceM = m.DistanceM
	res.SetID = ix.Set().ID
	if m.Grid != nil {
		res.Grid = ref(m.Grid)
		for _, a := range ix.Ancestors(m.Grid) {
			res.Ancestors = append(res.Ancestors, ref(a))
		}
	}
	return res
}

// GET /api/v1/geocode?lon=&lat=&crs=&at=&snap_m=
func (s *Server) handleGeocodeGet(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query())
	lon := q.requiredFloat("lon")
	lat := q.requiredFloat("lat")
	c := q.crs("crs")
	at, hasAt := q.time("at")
	snap, _ := q.float("snap_m")
	if q.err == nil && (snap < 0 || snap > maxSnapM) {
		q.fail("snap_m", "must be from 0 to %d", maxSnapM)
	}
	if q.err == nil && !validLonLat(lon, lat) {
		q.fail("lon/lat", "lon must be within -180..180 and lat within -90..90")
	}
	if q.err != nil {
		return q.err
	}
	ix, err := s.indexAt(at, hasAt)
	if err != nil {
		return err
	}
	s.metrics.geocoded.Inc()
	return writeJSON(w, http.StatusOK, s.geocodeOne(ix, c, "", lon, lat, snap))
}

// GeocodeBatch is the POST body: points with optional ids, answered in
// input order.
type GeocodeBatch struct {
	CRS    string  `json:"crs"`
	At     string  `json:"at"`
	SnapM  float64 `json:"snap_m"`
	Points []struct {
		ID  string   `json:"id"`
		Lon *float64 `json:"lon"`
		Lat *float64 `json:"lat"`
	} `json:"points"`
}

const maxBatchPoints = 100000

// POST /api/v1/geocode
func (s *Server) handleGeocodePost(w http.ResponseWriter, r *http.Request) error {
	var body GeocodeBatch
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		return badRequest("body: %v (want {\"points\":[{\"id\":…,\"lon\":…,\"lat\":…}], \"crs\":…, \"at\":…})", err)
	}
	if len(body.Points) > maxBatchPoints {
		return problem(http.StatusRequestEntityTooLarge, "at most %d points a request, got %d", maxBatchPoints, len(body.Points))
	}
	c, err := geo.ParseCRS(body.CRS)
	if err != nil {
		return badRequest("crs: %v", err)
	}
	if body.SnapM < 0 || body.SnapM > maxSnapM {
		return badRequest("snap_m must be from 0 to %d", maxSnapM)
	}
	var at time.Time
	if body.At != "" {
		if at, err = parseTime(body.At); err != nil {
			return badRequest("at: %q is not an RFC 3339 time", body.At)
		}
	}
	ix, err := s.indexAt(at, body.At != "")
	if err != nil {
		return err
	}
	out := make([]GeocodeResult, len(body.Points))
	for i, p := range body.Points {
		if p.Lon == nil || p.Lat == nil {
			out[i] = GeocodeResult{ID: p.ID, Status: "invalid", Error: "lon and lat are required"}
			continue
		}
		out[i] = s.geocodeOne(ix, c, p.ID, *p.Lon, *p.Lat, body.SnapM)
	}
	s.metrics.geocoded.Add(float64(len(out)))
	return writeJSON(w, http.StatusOK, map[string]any{"set_id": ix.Set().ID, "results": out})
}
