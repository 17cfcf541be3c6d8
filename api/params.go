package api

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/geo"
)

// query reads typed parameters, remembering the first bad one.
type query struct {
	v   url.Values
	err *Problem
}

func newQuery(v url.Values) *query { return &query{v: v} }

func (q *query) fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = badRequest("parameter %s: "+format, append([]any{name}, args...)...)
	}
}

func (q *query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

// float reads a finite number; ok is false when the parameter is absent.
func (q *query) float(name string) (float64, bool) {
	s := q.str(name)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		q.fail(name, "%q is not a finite number", s)
		return 0, false
	}
	return f, true
}

func (q *query) requiredFloat(name string) float64 {
	f, ok := q.float(name)
	if !ok && q.err == nil {
		q.fail(name, "is required")
	}
	return f
}

func (q *query) int(name string, def, lo, hi int) int {
	s := q.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.fail(name, "%q is not a whole number from %d to %d", s, lo, hi)
		return def
	}
	return n
}

// time reads an RFC 3339 time or a date (YYYY-MM-DD, midnight UTC+8, the
// city's day).
func (q *query) time(name string) (time.Time, bool) {
	s := q.str(name)
	if s == "" {
		return time.Time{}, false
	}
	t, err := parseTime(s)
	if err != nil {
		q.fail(name, "%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
		return time.Time{}, false
	}
	return t, true
}

// cityZone is China Standard Time, the zone of dates given without one.
var cityZone = time.FixedZone("CST", 8*3600)

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, cityZone)
}

func (q *query) crs(name string) geo.CRS {
	c, err := geo.ParseCRS(q.str(name))
	if err != nil {
		q.fail(name, "%v", err)
	}
	return c
}

// bbox reads minLon,minLat,maxLon,maxLat.
func (q *query) bbox(name string) (orb.Bound, bool) {
	s := q.str(name)
	if s == "" {
		return orb.Bound{}, false
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		q.fail(name, "want minLon,minLat,maxLon,maxLat")
		return orb.Bound{}, false
	}
	var f [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			q.fail(name, "%q is not a number", p)
			return orb.Bound{}, false
		}
		f[i] = v
	}
	if f[0] > f[2] || f[1] > f[3] || f[0] < -180 || f[2] > 180 || f[1] < -90 || f[3] > 90 {
		q.fail(name, "not a box inside lon -180..180, lat -90..90 with min <= max")
		return orb.Bound{}, false
	}
	return orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}, true
}

func validLonLat(lon, lat float64) bool {
	return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
}
