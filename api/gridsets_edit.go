package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/gridd/gridd/store"
)

// Edit operations of POST /api/v1/gridsets/{id}/edits.
const (
	opReplaceGeometry = "replace_geometry"
	opSplit           = "split"
	opMerge           = "merge"
	opMove            = "move"
)

// EditRequest is one edit of a draft. The fields each op reads:
//
//	replace_geometry  code, geometry (GeoJSON Polygon or MultiPolygon)
//	split             code, line (GeoJSON LineString), new_codes (two, optional)
//	merge             codes (two or more), new_code (optional)
//	move              code, parent
//
// Geometry and line may also be GeoJSON Features; crs (wgs84 default,
// gcj02, bd09) says what their coordinates are in.
type EditRequest struct {
	Op       string          `json:"op"`
	Code     string          `json:"code,omitempty"`
	Geometry json.RawMessage `json:"geometry,omitempty"`
	Line     json.RawMessage `json:"line,omitempty"`
	Codes    []string        `json:"codes,omitempty"`
	NewCode  string          `json:"new_code,omitempty"`
	NewCodes []string        `json:"new_codes,omitempty"`
	Parent   string          `json:"parent,omitempty"`
	CRS      string          `json:"crs,omitempty"`
}

// EditResponse is the outcome of an edit: the codes added, removed,
// changed and renamed, the validation before and after, and its delta.
type EditResponse struct {
	SetID int64  `json:"set_id"`
	Op    string `json:"op"`
	// OK is true when the draft has no validation error after the edit.
	OK bool `json:"ok"`
	topo.EditResult
}

// POST /api/v1/gridsets/{id}/edits
func (g *gridsets) handleEdit(w http.ResponseWriter, r *http.Request) error {
	if err := require(r, RolePlanner); err != nil {
		return err
	}
	id, err := setID(r)
	if err != nil {
		return err
	}
	var req EditRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return bodyError(err)
		}
		return badRequest("body: %v (want {\"op\": \"replace_geometry\"|\"split\"|\"merge\"|\"move\", …})", err)
	}
	edit, named, err := req.compile()
	if err != nil {
		return err
	}
	a := AccessOf(r)
	for _, c := range named {
		if c != "" && !a.Sees(c) {
			return problem(http.StatusForbidden, "grid %s is outside the key's scope %s", c, a.Scope)
		}
	}

	unlock := g.lock(id)
	defer unlock()
	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	if set.Status != grids.StatusDraft {
		return publishedProblem(set.ID)
	}
	res, err := edit(set.Grids)
	if errors.Is(err, topo.ErrEdit) {
		return problem(http.StatusUnprocessableEntity, "%s: %v", req.Op, err)
	}
	if err != nil {
		return fmt.Errorf("edit grid set %d: %w", id, err)
	}
	if err := g.s.b.Store.ReplaceGrids(r.Context(), id, res.Grids); err != nil {
		if errors.Is(err, store.ErrImmutable) {
			return publishedProblem(id)
		}
		return err
	}
	g.s.log.Info("grid set draft edited", "set", id, "op", req.Op, "added", res.Added, "removed", res.Removed,
		"errors_after", res.After.Summary.Errors, "by", a.By())
	return writeJSON(w, http.StatusOK, EditResponse{SetID: id, Op: req.Op, OK: res.After.OK(), EditResult: res})
}

func publishedProblem(id int64) *Problem {
	return problem(http.StatusConflict, "grid set %d is published and never changes: copy it into a new draft with POST /api/v1/gridsets {\"copy_of\": %d}", id, id)
}

// compile checks the request and returns the edit to run on the draft's
// grids, with the codes it names (for the key's scope).
func (req EditRequest) compile() (func([]*grids.Grid) (topo.EditResult, error), []string, error) {
	c, err := geo.ParseCRS(req.CRS)
	if err != nil {
		return nil, nil, badRequest("crs: %v", err)
	}
	opt := topo.Options{}
	need := func(field, value string) error {
		if strings.TrimSpace(value) == "" {
			return badRequest("%s needs %s", req.Op, field)
		}
		return nil
	}
	switch req.Op {
	case opReplaceGeometry:
		if err := need("code", req.Code); err != nil {
			return nil, nil, err
		}
		mp, err := polygonsParam(req.Geometry, c)
		if err != nil {
			return nil, nil, err
		}
		return func(gs []*grids.Grid) (topo.EditResult, error) {
			return topo.ReplaceGeometry(gs, req.Code, mp, opt)
		}, []string{req.Code}, nil
	case opSplit:
		if err := need("code", req.Code); err != nil {
			return nil, nil, err
		}
		line, err := lineParam(req.Line, c)
		if err != nil {
			return nil, nil, err
		}
		var codes [2]string
		switch len(req.NewCodes) {
		case 0:
		case 2:
			codes = [2]string{req.NewCodes[0], req.NewCodes[1]}
		default:
			return nil, nil, badRequest("split: new_codes must name two codes (left and right of the line), or be left out")
		}
		return func(gs []*grids.Grid) (topo.EditResult, error) {
			return topo.Split(gs, req.Code, line, codes, opt)
		}, []string{req.Code, codes[0], codes[1]}, nil
	case opMerge:
		if len(req.Codes) < 2 {
			return nil, nil, badRequest("merge needs codes: two or more grids to merge")
		}
		return func(gs []*grids.Grid) (topo.EditResult, error) {
			return topo.Merge(gs, req.Codes, req.NewCode, opt)
		}, append([]string{req.NewCode}, req.Codes...), nil
	case opMove:
		if err := need("code", req.Code); err != nil {
			return nil, nil, err
		}
		if err := need("parent", req.Parent); err != nil {
			return nil, nil, err
		}
		return func(gs []*grids.Grid) (topo.EditResult, error) {
			return topo.Move(gs, req.Code, req.Parent, opt)
		}, []string{req.Code, req.Parent}, nil
	case "":
		return nil, nil, badRequest("op is required: replace_geometry, split, merge or move")
	}
	return nil, nil, badRequest("unknown op %q: want replace_geometry, split, merge or move", req.Op)
}

// geometryParam decodes a GeoJSON geometry, or the geometry of a Feature.
func geometryParam(raw json.RawMessage, field string) (orb.Geometry, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badRequest("%s is required", field)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, badRequest("%s: %v", field, err)
	}
	if head.Type == "Feature" {
		f, err := geojson.UnmarshalFeature(raw)
		if err != nil {
			return nil, badRequest("%s: %v", field, err)
		}
		if f.Geometry == nil {
			return nil, badRequest("%s: the feature has no geometry", field)
		}
		return f.Geometry, nil
	}
	gm, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, badRequest("%s: %v", field, err)
	}
	return gm.Geometry(), nil
}

// toWGS84 converts the points of a geometry in place after checking them.
func toWGS84(pts []orb.Point, c geo.CRS, field string) error {
	for i, p := range pts {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) || !validLonLat(p[0], p[1]) {
			return badRequest("%s: position %v is not a lon/lat within -180..180, -90..90", field, p)
		}
		pts[i][0], pts[i][1] = geo.ToWGS84(c, p[0], p[1])
	}
	return nil
}

// polygonsParam reads the new geometry of replace_geometry: converted to
// WGS84, rings closed and wound as RFC 7946 has it. Whether it is a valid
// polygon, and how it sits with its neighbours, is for validation to say.
func polygonsParam(raw json.RawMessage, c geo.CRS) (orb.MultiPolygon, error) {
	gm, err := geometryParam(raw, "geometry")
	if err != nil {
		return nil, err
	}
	var mp orb.MultiPolygon
	switch t := gm.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{t}
	case orb.MultiPolygon:
		mp = t
	default:
		return nil, badRequest("geometry is a %s, want Polygon or MultiPolygon", gm.GeoJSONType())
	}
	for _, poly := range mp {
		for _, ring := range poly {
			if err := toWGS84(ring, c, "geometry"); err != nil {
				return nil, err
			}
		}
	}
	mp = topo.NormalizeGeometry(mp)
	if len(mp) == 0 {
		return nil, badRequest("geometry is empty")
	}
	for _, poly := range mp {
		if len(poly) == 0 {
			return nil, badRequest("geometry has a polygon without rings")
		}
		for _, ring := range poly {
			if len(ring) < 4 {
				return nil, badRequest("geometry has a ring of fewer than three distinct positions")
			}
		}
	}
	return mp, nil
}

// lineParam reads the cut line of split, in WGS84.
func lineParam(raw json.RawMessage, c geo.CRS) (orb.LineString, error) {
	gm, err := geometryParam(raw, "line")
	if err != nil {
		return nil, err
	}
	ls, ok := gm.(orb.LineString)
	if !ok {
		return nil, badRequest("line is a %s, want LineString", gm.GeoJSONType())
	}
	if len(ls) < 2 {
		return nil, badRequest("line needs at least two positions")
	}
	if err := toWGS84(ls, c, "line"); err != nil {
		return nil, err
	}
	return ls, nil
}
