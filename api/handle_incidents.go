package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// Limits of the incidents endpoints.
const (
	// maxIngestItems bounds one POST; larger imports go in several requests
	// (or through `gridd import incidents`).
	maxIngestItems = 100000
	// maxIncidentBBoxDeg2 bounds the bbox of a list query: several times
	// the largest city, small enough to keep R-tree scans short.
	maxIncidentBBoxDeg2 = 4.0
	maxNoteBytes        = 4096
	// maxClockSkew is how far ahead of the server's clock a client's step
	// time may be.
	maxClockSkew = 5 * time.Minute
)

func (s *Server) incidentRoutes(v1 *mux.Router) {
	v1.Handle("/incidents", s.adapt(s.handleIncidentsPost)).Methods(http.MethodPost)
	v1.Handle("/incidents", s.adapt(s.handleIncidentsList)).Methods(http.MethodGet)
	v1.Handle("/incidents/{id}", s.adapt(s.handleIncidentGet)).Methods(http.MethodGet)
	v1.Handle("/incidents/{id}", s.adapt(s.handleIncidentPatch)).Methods(http.MethodPatch)
}

var errTooManyItems = errors.New("too many items")

// bodyError maps a failure to read the request body to its status.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return problem(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mb.Limit)
	}
	return badRequest("read body: %v", err)
}

// itemError names the line and field of a bad item.
func itemError(line int, err error) ItemError {
	ie := ItemError{Line: line}
	var le *incidents.LineError
	if errors.As(err, &le) {
		err = le.Err
	}
	var fe *incidents.FieldError
	if errors.As(err, &fe) {
		ie.Field, ie.Error = fe.Field, fe.Msg
		return ie
	}
	ie.Error = err.Error()
	return ie
}

// readIncidentItems parses a POST body by its Content-Type: one JSON
// object, NDJSON, CSV or a GeoJSON FeatureCollection. Bad lines are
// returned as item errors; the other lines as items.
func readIncidentItems(r *http.Request) ([]IngestItem, []ItemError, error) {
	ct := r.Header.Get("Content-Type")
	mt := "application/json"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, nil, problem(http.StatusUnsupportedMediaType, "Content-Type %q: %v", ct, err)
		}
	}
	var (
		items []IngestItem
		bad   []ItemError
	)
	collect := func(line int, in incidents.Input, err error) error {
		if len(items)+len(bad) >= maxIngestItems {
			return errTooManyItems
		}
		if err != nil {
			bad = append(bad, itemError(line, err))
			return nil
		}
		items = append(items, IngestItem{Line: line, Input: in})
		return nil
	}
	var err error
	switch mt {
	case "application/json":
		var body []byte
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, nil, bodyError(err)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, nil, badRequest("empty body: send one incident object, or NDJSON with Content-Type application/x-ndjson")
		}
		in, perr := incidents.ParseJSON(body)
		if perr != nil {
			return nil, []ItemError{itemError(0, perr)}, nil
		}
		return []IngestItem{{Input: in}}, nil, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		err = incidents.ParseNDJSON(r.Body, collect)
	case "text/csv":
		err = incidents.ParseCSV(r.Body, collect)
	case "application/geo+json":
		err = incidents.ParseGeoJSON(r.Body, collect)
	default:
		return nil, nil, problem(http.StatusUnsupportedMediaType,
			"Content-Type %s: send application/json (one incident), application/x-ndjson, text/csv or application/geo+json", mt)
	}
	switch {
	case errors.Is(err, errTooManyItems):
		return nil, nil, problem(http.StatusRequestEntityTooLarge, "at most %d incidents a request", maxIngestItems)
	case err != nil:
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, bodyError(err)
		}
		// A malformed stream (bad CSV header, GeoJSON that is no
		// FeatureCollection) is the body's fault.
		return nil, nil, &Problem{Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: "nothing was stored: " + err.Error()}
	}
	if len(items) == 0 && len(bad) == 0 {
		return nil, nil, badRequest("the body holds no incidents")
	}
	return items, bad, nil
}

// rejectBatch is the 422 answer naming each bad line.
func rejectBatch(total int, bad []ItemError) *Problem {
	slices.SortStableFunc(bad, func(a, b ItemError) int { return a.Line - b.Line })
	return &Problem{
		Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
		Detail: fmt.Sprintf("%d of %d incidents are invalid; nothing was stored: fix the lines named and send the batch again", len(bad), total),
		Errors: bad,
	}
}

// checkItems validates items the way Ingest will and, for a scoped key,
// refuses incidents that would fall outside its scope.
func (s *Server) checkItems(items []IngestItem, a Access) []ItemError {
	var bad []ItemError
	for _, it := range items {
		inc, err := it.Input.Validate(s.b.Catalogue)
		if err != nil {
			bad = append(bad, itemError(it.Line, err))
			continue
		}
		if a.Scope != "" {
			code := s.b.Geocode(inc.Lon, inc.Lat, inc.ReportedAt)
			if !a.Sees(code) {
				bad = append(bad, ItemError{Line: it.Line, Field: "lon",
					Error: fmt.Sprintf("the location falls outside the key's scope %s", a.Scope)})
			}
		}
	}
	return bad
}

// ingest stores items all or nothing, as the key a, and lets the tiles
// know. bad is non-nil when the batch was refused.
func (s *Server) ingest(ctx context.Context, items []IngestItem, a Access) ([]IngestResult, []ItemError, error) {
	if a.Scope != "" {
		if bad := s.checkItems(items, a); len(bad) > 0 {
			return nil, bad, nil
		}
	}
	res, err := s.b.Ingest(ctx, items, a.By())
	if errors.Is(err, ErrBatchRejected) {
		var bad []ItemError
		for i, r := range res {
			if r.Error == "" {
				continue
			}
			if _, verr := items[i].Input.Validate(s.b.Catalogue); verr != nil {
				bad = append(bad, itemError(r.Line, verr))
			} else {
				bad = append(bad, ItemError{Line: r.Line, Error: r.Error})
			}
		}
		return nil, bad, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ingest %d incidents: %w", len(items), err)
	}
	s.tiles.sync()
	return res, nil, nil
}

// IngestResponse answers a batch POST.
type IngestResponse struct {
	Created  int            `json:"created"`
	Existing int            `json:"existing"`
	Results  []IngestResult `json:"results"`
}

// POST /api/v1/incidents
func (s *Server) handleIncidentsPost(w http.ResponseWriter, r *http.Request) error {
	a := AccessOf(r)
	items, bad, err := readIncidentItems(r)
	if err != nil {
		return err
	}
	single := r.Header.Get("Content-Type") == "" || strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	if len(bad) > 0 {
		// Report every bad line at once, not only those the parser caught.
		total := len(items) + len(bad)
		bad = append(bad, s.checkItems(items, a)...)
		return rejectBatch(total, bad)
	}
	res, bad, err := s.ingest(r.Context(), items, a)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return rejectBatch(len(items), bad)
	}
	out := IngestResponse{Results: res}
	for _, x := range res {
		if x.Created {
			out.Created++
		} else {
			out.Existing++
		}
	}
	status := http.StatusOK
	if out.Created > 0 {
		status = http.StatusCreated
	}
	if single {
		w.Header().Set("Location", "/api/v1/incidents/"+strconv.FormatInt(res[0].ID, 10))
		return writeJSON(w, status, res[0])
	}
	return writeJSON(w, status, out)
}

// categoryParam reads a category as a catalogue code or 大类/小类 names.
func (s *Server) categoryParam(q *query, name string) string {
	v := q.str(name)
	if v == "" {
		return ""
	}
	c, ok := s.b.Catalogue.Lookup(v)
	if !ok {
		q.fail(name, "unknown category %q (want a catalogue code such as E0102 or 大类/小类 names)", v)
		return ""
	}
	return c.Code
}

// timeRange reads from and to, to after from.
func timeRange(q *query) (from, to *time.Time) {
	if t, ok := q.time("from"); ok {
		from = &t
	}
	if t, ok := q.time("to"); ok {
		to = &t
	}
	if from != nil && to != nil && !to.After(*from) && q.err == nil {
		q.fail("to", "must be after from")
	}
	return from, to
}

// GET /api/v1/incidents?bbox=&from=&to=&category=&grid=&status=&limit=&cursor=
func (s *Server) handleIncidentsList(w http.ResponseWriter, r *http.Request) error {
	a := AccessOf(r)
	q := newQuery(r.URL.Query())
	var iq store.IncidentQuery
	if box, ok := q.bbox("bbox"); ok {
		if area := (box.Max[0] - box.Min[0]) * (box.Max[1] - box.Min[1]); area > maxIncidentBBoxDeg2 {
			q.fail("bbox", "covers %.1f square degrees; at most %.0f a query (page through smaller boxes, or leave bbox out)", area, maxIncidentBBoxDeg2)
		}
		iq.BBox = &box
	}
	iq.From, iq.To = timeRange(q)
	iq.Category = s.categoryParam(q, "category")
	grid := q.str("grid")
	if grid != "" && strings.Trim(grid, "0123456789") != "" {
		q.fail("grid", "%q is not a grid or hierarchy code", grid)
	}
	if st := q.str("status"); st != "" {
		status, err := incidents.ParseStatus(st)
		if err != nil {
			q.fail("status", "%v", err)
		}
		iq.Status = status
	}
	iq.Limit = q.int("limit", store.DefaultLimit, 1, store.MaxLimit)
	if c := q.str("cursor"); c != "" {
		if _, err := store.ParseCursor(c); err != nil {
			q.fail("cursor", "not a cursor this server gave out")
		}
		iq.Cursor = c
	}
	if q.err != nil {
		return q.err
	}
	out := IncidentCollection{Type: "FeatureCollection", Features: []IncidentFeature{}}
	prefix, ok := a.GridPrefix(grid)
	if ok {
		iq.GridPrefix = prefix
		page, next, err := s.b.listIncidents(r.Context(), iq)
		if err != nil {
			return fmt.Errorf("list incidents: %w", err)
		}
		for _, inc := range page {
			if !a.Sees(inc.GridCode) {
				continue // the columns filtered by prefix already; kept as a guard
			}
			out.Features = append(out.Features, incidentFeature(inc, s.b.Catalogue, a, false))
		}
		out.NextCursor = next
	}
	out.NumberReturned = len(out.Features)
	self := baseURL(r) + r.URL.Path
	out.Links = []Link{{Href: self + "?" + r.URL.RawQuery, Rel: "self", Type: "application/geo+json"}}
	if out.NextCursor != "" {
		v := r.URL.Query()
		v.Set("cursor", out.NextCursor)
		out.Links = append(out.Links, Link{Href: self + "?" + v.Encode(), Rel: "next", Type: "application/geo+json"})
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, out)
}

// incidentID reads the {id} path variable.
func incidentID(r *http.Request) (int64, error) {
	s := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no incident %q (ids are positive integers)", s)
	}
	return id, nil
}

func noIncident(id int64) *Problem { return notFound("no incident %d", id) }

// getIncident reads one incident the key may see; one outside its scope is
// answered exactly like one that does not exist, so ids leak nothing.
func (s *Server) getIncident(ctx context.Context, a Access, id int64) (*incidents.Incident, error) {
	inc, err := s.b.Store.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noIncident(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get incident %d: %w", id, err)
	}
	if !a.Sees(inc.GridCode) {
		return nil, noIncident(id)
	}
	return inc, nil
}

// GET /api/v1/incidents/{id}
func (s *Server) handleIncidentGet(w http.ResponseWriter, r *http.Request) error {
	id, err := incidentID(r)
	if err != nil {
		return err
	}
	a := AccessOf(r)
	inc, err := s.getIncident(r.Context(), a, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, incidentFeature(inc, s.b.Catalogue, a, true))
}

// IncidentPatch is the PATCH body: a status change, a deadline extension
// (延期), or both (the extension first).
type IncidentPatch struct {
	Status   string `json:"status,omitempty"`
	Deadline string `json:"deadline,omitempty"`
	Note     string `json:"note,omitempty"`
	// At is when the step happened (default now): field apps that were
	// offline send their own time.
	At string `json:"at,omitempty"`
}

var errOutOfScope = errors.New("incident outside the key's scope")

// PATCH /api/v1/incidents/{id}
func (s *Server) handleIncidentPatch(w http.ResponseWriter, r *http.Request) error {
	id, err := incidentID(r)
	if err != nil {
		return err
	}
	a := AccessOf(r)
	var p IncidentPatch
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return bodyError(err)
		}
		return badRequest("body: %v (want {\"status\": …, \"deadline\": …, \"note\": …, \"at\": …})", err)
	}
	if p.Status == "" && p.Deadline == "" {
		return badRequest("give status, deadline or both")
	}
	if len(p.Note) > maxNoteBytes {
		return badRequest("note longer than %d bytes", maxNoteBytes)
	}
	var to incidents.Status
	if p.Status != "" {
		if to, err = incidents.ParseStatus(p.Status); err != nil {
			return badRequest("status: %v", err)
		}
	}
	var deadline time.Time
	if p.Deadline != "" {
		if deadline, err = parseTime(p.Deadline); err != nil {
			return badRequest("deadline: %q is not an RFC 3339 time", p.Deadline)
		}
	}
	at := time.Now()
	if p.At != "" {
		if at, err = parseTime(p.At); err != nil {
			return badRequest("at: %q is not an RFC 3339 time", p.At)
		}
		// A step dated ahead would block every later step until then.
		if at.After(time.Now().Add(maxClockSkew)) {
			return badRequest("at: %s is in the future", p.At)
		}
	}
	inc, err := s.b.UpdateIncident(r.Context(), id, func(inc *incidents.Incident) error {
		if !a.Sees(inc.GridCode) {
			return errOutOfScope
		}
		if p.Deadline != "" {
			if err := incidents.Extend(inc, deadline, a.By(), p.Note, at); err != nil {
				return err
			}
		}
		if p.Status != "" {
			return incidents.ChangeStatus(inc, to, a.By(), p.Note, at)
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errOutOfScope):
		return noIncident(id)
	case errors.Is(err, incidents.ErrForbiddenTransition):
		return problem(http.StatusConflict, "%v", err)
	case err != nil:
		return fmt.Errorf("update incident %d: %w", id, err)
	}
	s.tiles.incidentChanged(orb.Point{inc.Lon, inc.Lat})
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, incidentFeature(inc, s.b.Catalogue, a, true))
}

// baseURL is the scheme and host the client reached us by, for absolute
// links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		host = "localhost"
	}
	return scheme + "://" + host
}

// withQuery appends v to a URL path.
func withQuery(path string, v url.Values) string {
	if e := v.Encode(); e != "" {
		return path + "?" + e
	}
	return path
}
