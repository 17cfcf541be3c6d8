package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gridd/gridd/incidents"
)

// Open311 GeoReport v2 (JSON) for citizen apps. Service codes are the
// category catalogue's codes; a request is an incident of source open311.
const (
	open311Prefix = "/open311/v2"
	// open311MaxRequests and open311DefaultDays follow GeoReport: at most
	// 1000 requests an answer, the last 90 days unless dates are given.
	open311MaxRequests = 1000
	open311DefaultDays = 90
	open311MaxIDs      = 1000
)

func (s *Server) open311Routes(r *mux.Router) {
	o := r.PathPrefix(open311Prefix).Subrouter()
	o.Handle("/discovery.json", s.adapt(s.handleOpen311Discovery)).Methods(http.MethodGet)
	o.Handle("/services.json", s.adapt(s.handleOpen311Services)).Methods(http.MethodGet)
	o.Handle("/requests.json", s.adapt(s.handleOpen311Requests)).Methods(http.MethodGet)
	o.Handle("/requests.json", s.adapt(s.handleOpen311Post)).Methods(http.MethodPost)
	o.Handle("/requests/{id}.json", s.adapt(s.handleOpen311Request)).Methods(http.MethodGet)
}

// GET /open311/v2/discovery.json
func (s *Server) handleOpen311Discovery(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{
		"changeset": "2025-01-01T00:00:00Z",
		"contact":   "the city's grid management command centre",
		"endpoints": []map[string]any{{
			"specification": "http://wiki.open311.org/GeoReport_v2",
			"url":           baseURL(r) + open311Prefix,
			"changeset":     "2025-01-01T00:00:00Z",
			"type":          "production",
			"formats":       []string{"application/json"},
		}},
	})
}

// Open311Service is one entry of services.json.
type Open311Service struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

// GET /open311/v2/services.json
func (s *Server) handleOpen311Services(w http.ResponseWriter, r *http.Request) error {
	var out []Open311Service
	for _, c := range s.b.Catalogue.All() {
		out = append(out, Open311Service{
			ServiceCode: c.Code, ServiceName: c.Name(),
			Description: strings.TrimSpace(c.MajorEN + " / " + c.MinorEN),
			Type:        "realtime", Keywords: c.Kind, Group: c.Major,
		})
	}
	return writeJSON(w, http.StatusOK, out)
}

// Open311Request is a service request as GeoReport shows it. Times are in
// the city's zone, as GeoReport asks for an offset.
type Open311Request struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	StatusNotes       string  `json:"status_notes"`
	ServiceName       string  `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       string  `json:"description"`
	AgencyResponsible string  `json:"agency_responsible"`
	ServiceNotice     string  `json:"service_notice"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime"`
	Address           string  `json:"address"`
	AddressID         string  `json:"address_id"`
	Zipcode           string  `json:"zipcode"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	MediaURL          string  `json:"media_url"`
}

func open311Time(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(cityZone).Format(time.RFC3339)
}

func (s *Server) open311Request(inc *incidents.Incident) Open311Request {
	out := Open311Request{
		ServiceRequestID:  strconv.FormatInt(inc.ID, 10),
		Status:            "open",
		StatusNotes:       string(inc.Status),
		ServiceCode:       inc.Category,
		Description:       inc.Description,
		RequestedDatetime: open311Time(&inc.ReportedAt),
		ExpectedDatetime:  open311Time(inc.Deadline),
		AddressID:         inc.GridCode,
		Lat:               inc.Lat,
		Long:              inc.Lon,
	}
	if !inc.Status.Open() {
		out.Status = "closed"
	}
	if c, ok := s.b.Catalogue.Lookup(inc.Category); ok {
		out.ServiceName = c.Name()
	}
	updated := inc.ReportedAt
	for _, t := range []*time.Time{inc.FiledAt, inc.DispatchedAt, inc.HandledAt, inc.ClosedAt} {
		if t != nil && t.After(updated) {
			updated = *t
		}
	}
	for _, h := range inc.History {
		if h.At.After(updated) {
			updated = h.At
		}
	}
	out.UpdatedDatetime = open311Time(&updated)
	if ix, err := s.reg.At(inc.ReportedAt); err == nil && inc.GridCode != "" {
		if g := ix.Grid(inc.GridCode); g != nil {
			out.Address = g.Name
			out.AgencyResponsible = g.Department
			if out.AgencyResponsible == "" {
				out.AgencyResponsible = g.Name
			}
		}
	}
	return out
}

// GET /open311/v2/requests.json?service_request_id=&service_code=&start_date=&end_date=&status=
func (s *Server) handleOpen311Requests(w http.ResponseWriter, r *http.Request) error {
	a := AccessOf(r)
	q := newQuery(r.URL.Query())
	if ids := q.str("service_request_id"); ids != "" {
		var out []Open311Request
		parts := strings.Split(ids, ",")
		if len(parts) > open311MaxIDs {
			return badRequest("at most %d service_request_id values", open311MaxIDs)
		}
		for _, p := range parts {
			id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || id <= 0 {
				continue // an id that cannot exist is simply not found
			}
			inc, err := s.getIncident(r.Context(), a, id)
			var pr *Problem
			if errors.As(err, &pr) && pr.Status == http.StatusNotFound {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, s.open311Request(inc))
		}
		return writeJSON(w, http.StatusOK, nonNil(out))
	}
	end := time.Now()
	if t, ok := q.time("end_date"); ok {
		end = t
	}
	start := end.AddDate(0, 0, -open311DefaultDays)
	if t, ok := q.time("start_date"); ok {
		start = t
	}
	if q.err == nil && end.Before(start) {
		q.fail("end_date", "is before start_date")
	}
	var codes []string
	if sc := q.str("service_code"); sc != "" {
		for _, c := range strings.Split(sc, ",") {
			cat, ok := s.b.Catalogue.Lookup(c)
			if !ok {
				q.fail("service_code", "unknown service %q (see services.json)", c)
				break
			}
			codes = append(codes, cat.Code)
		}
	}
	var statuses []incidents.Status
	if st := q.str("status"); st != "" {
		for _, x := range strings.Split(st, ",") {
			switch strings.TrimSpace(x) {
			case "open":
				for _, s := range incidents.Statuses() {
					if s.Open() {
						statuses = append(statuses, s)
					}
				}
			case "closed":
				statuses = append(statuses, incidents.StatusClosed, incidents.StatusRejected)
			default:
				q.fail("status", "%q: want open, closed or both", x)
			}
		}
	}
	if q.err != nil {
		return q.err
	}
	// The newest requests first: select over the columns, then read the
	// page from the store.
	v := s.b.Columns.View()
	type hit struct {
		row int
		at  int64
	}
	var hits []hit
	for _, code := range orAll(codes) {
		f := rowFilter{from: start.UnixMilli(), to: end.UnixMilli() + 1, category: code, prefix: a.Scope, statuses: statuses}
		rows, _, err := selectRows(r.Context(), v, f, 0, -1)
		if err != nil {
			return err
		}
		for _, i := range rows {
			hits = append(hits, hit{i, v.ReportedAtMilli(i)})
		}
	}
	slices.SortFunc(hits, func(x, y hit) int {
		if x.at != y.at {
			return int(y.at - x.at)
		}
		return y.row - x.row
	})
	hits = hits[:min(len(hits), open311MaxRequests)]
	ids := make([]int64, len(hits))
	for j, h := range hits {
		ids[j] = v.ID(h.row)
	}
	incs, err := s.b.hydrate(r.Context(), ids)
	if err != nil {
		return err
	}
	out := make([]Open311Request, 0, len(incs))
	for _, inc := range incs {
		out = append(out, s.open311Request(inc))
	}
	return writeJSON(w, http.StatusOK, out)
}

func orAll(codes []string) []string {
	if len(codes) == 0 {
		return []string{""}
	}
	return codes
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// GET /open311/v2/requests/{id}.json
func (s *Server) handleOpen311Request(w http.ResponseWriter, r *http.Request) error {
	id, err := incidentID(r)
	if err != nil {
		return err
	}
	inc, err := s.getIncident(r.Context(), AccessOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, []Open311Request{s.open311Request(inc)})
}

// open311Post is the POST form (or JSON object) of a new request. GeoReport
// personal fields (email, names, phone) are accepted and not stored.
type open311Post struct {
	ServiceCode   string `json:"service_code"`
	Lat           string `json:"lat"`
	Long          string `json:"long"`
	AddressString string `json:"address_string"`
	Description   string `json:"description"`
	// CRS is gridd's extension for apps that give GCJ-02 or BD-09.
	CRS string `json:"crs"`
}

// POST /open311/v2/requests.json
func (s *Server) handleOpen311Post(w http.ResponseWriter, r *http.Request) error {
	a := AccessOf(r)
	var p open311Post
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var raw map[string]any
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return bodyError(err)
			}
			return badRequest("body: %v", err)
		}
		form := url.Values{}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				form.Set(k, x)
			case float64:
				form.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
			}
		}
		p = open311Form(form)
	case "application/x-www-form-urlencoded", "multipart/form-data", "":
		if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return bodyError(err)
			}
			return badRequest("form: %v", err)
		}
		p = open311Form(r.Form)
	default:
		return problem(http.StatusUnsupportedMediaType, "Content-Type %s: send a form (application/x-www-form-urlencoded) or JSON", mt)
	}
	var bad []ItemError
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad = append(bad, ItemError{Field: field, Error: "missing"})
		}
	}
	need("service_code", p.ServiceCode)
	need("lat", p.Lat)
	need("long", p.Long)
	num := func(field, v string) *float64 {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			bad = append(bad, ItemError{Field: field, Error: fmt.Sprintf("%q is not a number", v)})
			return nil
		}
		return &f
	}
	lat, lon := num("lat", p.Lat), num("long", p.Long)
	if len(bad) > 0 {
		return &Problem{Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
			Detail: "service_code, lat and long are required", Errors: bad}
	}
	desc := p.Description
	if a := strings.TrimSpace(p.AddressString); a != "" {
		desc = strings.TrimSpace(desc + "\n" + "地址: " + a)
	}
	in := incidents.Input{
		Lon: lon, Lat: lat, ReportedAt: time.Now().UTC().Format(time.RFC3339Nano),
		Category: p.ServiceCode, Source: string(incidents.SourceOpen311), Description: desc, CRS: p.CRS,
	}
	res, bad, err := s.ingest(r.Context(), []IngestItem{{Input: in}}, a)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		for i := range bad {
			switch bad[i].Field {
			case "category":
				bad[i].Field = "service_code"
			case "lon":
				bad[i].Field = "long"
			}
		}
		return rejectBatch(1, bad)
	}
	notice := ""
	if res[0].GridCode == "" {
		notice = "the location is outside every grid of the city: the request was recorded without a responsible grid"
	}
	w.Header().Set("Location", open311Prefix+"/requests/"+strconv.FormatInt(res[0].ID, 10)+".json")
	return writeJSON(w, http.StatusCreated, []map[string]any{{
		"service_request_id": strconv.FormatInt(res[0].ID, 10),
		"service_notice":     notice,
		"account_id":         nil,
	}})
}

func open311Form(v url.Values) open311Post {
	return open311Post{
		ServiceCode: v.Get("service_code"), Lat: v.Get("lat"), Long: v.Get("long"),
		AddressString: v.Get("address_string"), Description: v.Get("description"), CRS: v.Get("crs"),
	}
}
