package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
)

func validateCommand() *command {
	var jurisdiction, crs, format string
	var sliver float64
	return &command{
		name:  "validate",
		usage: "FILE.geojson [--jurisdiction FILE] [--crs wgs84|gcj02|bd09] [--sliver-m2 M2] [--format text|json|geojson]",
		summary: "Check a grids file: gaps, overlaps, invalid geometry, slivers, children outside their parents and code problems.\n" +
			"Exit status 1 if there is any error (warnings alone give 0). Features that cannot be read at all are listed first.",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&jurisdiction, "jurisdiction", "", "GeoJSON (Polygon/MultiPolygon geometry, feature or collection) of the area the grids must cover exactly (default: the districts' union, holes filled)")
			fs.StringVar(&crs, "crs", "wgs84", "CRS of the files' coordinates: wgs84, gcj02 or bd09")
			fs.Float64Var(&sliver, "sliver-m2", topo.DefaultSliverM2, "report grids and parts smaller than this many m² as slivers (0 or negative: off)")
			fs.StringVar(&format, "format", "text", "output: text, json (the report) or geojson (the problem areas)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return errUsage
			}
			c, err := geo.ParseCRS(crs)
			if err != nil {
				return fmt.Errorf("--crs: %w", err)
			}
			if format != "text" && format != "json" && format != "geojson" {
				return fmt.Errorf("--format: %q is not text, json or geojson", format)
			}
			gs, unread, err := readGridsFile(args[0], c)
			if err != nil {
				return err
			}
			opt := topo.Options{SliverM2: sliver}
			if sliver == 0 {
				opt.SliverM2 = -1 // 0 asks for no sliver check, not topo's default
			}
			if jurisdiction != "" {
				if opt.Jurisdiction, err = readJurisdiction(jurisdiction, c); err != nil {
					return err
				}
			}
			rep := topo.Validate(gs, opt)
			if err := writeValidation(e.stdout, format, args[0], rep, unread); err != nil {
				return err
			}
			if len(unread) > 0 || !rep.OK() {
				return exitError{code: 1}
			}
			return nil
		},
	}
}

// unreadable is a feature, or a part of one, that the checks could not
// take as it is; the grid is still checked with what could be read.
type unreadable struct {
	Index  int    `json:"index"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
}

func writeValidation(w io.Writer, format, file string, rep topo.Report, unread []unreadable) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			File       string       `json:"file"`
			OK         bool         `json:"ok"`
			Unreadable []unreadable `json:"unreadable"`
			topo.Report
		}{file, rep.OK() && len(unread) == 0, unread, rep})
	case "geojson":
		b, err := json.Marshal(rep.GeoJSON())
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if len(unread) > 0 {
		fmt.Fprintf(w, "%s: %d problems reading features:\n", file, len(unread))
		for _, u := range unread {
			code := ""
			if u.Code != "" {
				code = " (code " + u.Code + ")"
			}
			fmt.Fprintf(w, "error   unreadable           feature %d%s: %s\n", u.Index, code, u.Reason)
		}
	}
	return rep.WriteText(w)
}

// featureDoc is one feature of a grids file, read leniently: the validator
// must report on files that `gridd import` refuses.
type featureDoc struct {
	Type       string          `json:"type"`
	Properties map[string]any  `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

// readGridsFile reads a grids GeoJSON file for validation. Unlike
// grids.ReadGeoJSON it keeps every feature whose geometry and properties
// can be made out, so that topo.Validate reports code problems, invalid
// rings and the overlaps and gaps of the rest; what cannot be made out is
// returned as unreadable. Only a file that is not a FeatureCollection is
// an error.
func readGridsFile(path string, c geo.CRS) ([]*grids.Grid, []unreadable, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: not a GeoJSON FeatureCollection: %w", path, err)
	}
	if doc.Type != "FeatureCollection" {
		return nil, nil, fmt.Errorf("%s: type is %q, want a FeatureCollection", path, doc.Type)
	}
	var gs []*grids.Grid
	var unread []unreadable
	for i, fr := range doc.Features {
		g, reasons := readFeature(fr, c)
		for _, r := range reasons {
			u := unreadable{Index: i, Reason: r}
			if g != nil {
				u.Code = g.Code
			}
			unread = append(unread, u)
		}
		if g != nil {
			gs = append(gs, g)
		}
	}
	return gs, unread, nil
}

// readFeature makes a grid of one feature. Properties that are absent or
// not strings, and geometry that is not a usable (multi)polygon, are
// reasons; the grid is kept (with no geometry where it had none usable)
// unless the feature is not an object at all.
func readFeature(raw json.RawMessage, c geo.CRS) (*grids.Grid, []string) {
	var f featureDoc
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, []string{fmt.Sprintf("not a feature object: %v", err)}
	}
	var reasons []string
	if f.Type != "Feature" {
		reasons = append(reasons, fmt.Sprintf("type is %q, want \"Feature\"", f.Type))
	}
	g := &grids.Grid{}
	str := func(key string, required bool) string {
		v, ok := f.Properties[key]
		if !ok || v == nil {
			if required {
				reasons = append(reasons, fmt.Sprintf("property %q is missing", key))
			}
			return ""
		}
		s, ok := v.(string)
		if !ok {
			reasons = append(reasons, fmt.Sprintf("property %q must be a string", key))
		}
		return s
	}
	g.Code = str("code", true)
	g.Name = str("name", true)
	g.Parent = str("parent", false)
	g.Department = str("department", false)
	if lv := str("level", true); lv != "" {
		var err error
		if g.Level, err = grids.ParseLevel(lv); err != nil {
			reasons = append(reasons, fmt.Sprintf("property \"level\": %v", err))
		}
	}
	if g.Level == grids.LevelUnknown {
		// The code's length says which level the grid is meant to be, so
		// that the hierarchy and the overlays can still check it.
		g.Level = grids.LevelOfCode(g.Code)
	}
	mp, reason := featureGeometry(f.Geometry, c)
	if reason != "" {
		reasons = append(reasons, reason)
	}
	g.Geometry = mp
	return g, reasons
}

// featureGeometry reads a Polygon or MultiPolygon, converts it to WGS84
// and normalises it; self-intersections and misplaced holes are left for
// Validate to find.
func featureGeometry(raw json.RawMessage, c geo.CRS) (orb.MultiPolygon, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "geometry is missing"
	}
	gm, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, fmt.Sprintf("geometry: %v", err)
	}
	var mp orb.MultiPolygon
	switch t := gm.Geometry().(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{t}
	case orb.MultiPolygon:
		mp = t
	default:
		return nil, fmt.Sprintf("geometry is a %s, want Polygon or MultiPolygon", gm.Type)
	}
	if len(mp) == 0 {
		return nil, "geometry is empty"
	}
	for _, poly := range mp {
		if len(poly) == 0 {
			return nil, "geometry has a polygon without rings"
		}
		for _, ring := range poly {
			if len(ring) < 4 {
				return nil, fmt.Sprintf("a ring has %d positions, want at least 4", len(ring))
			}
			if ring[0] != ring[len(ring)-1] {
				return nil, "a ring is not closed (its first and last positions differ)"
			}
			for k, p := range ring {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) ||
					p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
					return nil, fmt.Sprintf("position %v is not a lon/lat within -180..180, -90..90", p)
				}
				ring[k][0], ring[k][1] = geo.ToWGS84(c, p[0], p[1])
			}
		}
	}
	return topo.NormalizeGeometry(mp), ""
}

// readJurisdiction reads the area a set must cover: a Polygon or
// MultiPolygon given as a geometry, a feature or a collection of features,
// whose polygons together make the area.
func readJurisdiction(path string, c geo.CRS) (orb.MultiPolygon, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("jurisdiction %s: %w", path, err)
	}
	var geoms []json.RawMessage
	switch head.Type {
	case "FeatureCollection":
		var fc struct {
			Features []featureDoc `json:"features"`
		}
		if err := json.Unmarshal(raw, &fc); err != nil {
			return nil, fmt.Errorf("jurisdiction %s: %w", path, err)
		}
		for _, f := range fc.Features {
			geoms = append(geoms, f.Geometry)
		}
	case "Feature":
		var f featureDoc
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("jurisdiction %s: %w", path, err)
		}
		geoms = append(geoms, f.Geometry)
	default:
		geoms = append(geoms, raw)
	}
	var out orb.MultiPolygon
	for i, g := range geoms {
		mp, reason := featureGeometry(g, c)
		if reason != "" {
			return nil, fmt.Errorf("jurisdiction %s: part %d: %s", path, i, reason)
		}
		out = append(out, mp...)
	}
	if len(out) == 0 {
		return nil, errors.New("jurisdiction " + path + ": no polygon")
	}
	return out, nil
}
