package topo

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Severity of a problem: errors make a set unpublishable.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem kinds.
const (
	// KindOverlap: two leaf grids claim the same area (多头管理).
	KindOverlap = "overlap"
	// KindGap: jurisdiction area that no leaf grid claims (无人管理).
	KindGap = "gap"
	// KindInvalidGeometry: a geometry that is not a valid OGC
	// (multi)polygon; it is left out of the overlay checks.
	KindInvalidGeometry = "invalid_geometry"
	// KindSliver: a grid, or a part of one, smaller than Options.SliverM2.
	KindSliver = "sliver"
	// KindMultipart: a leaf grid in several disjoint parts.
	KindMultipart = "multipart"
	// KindOutsideParent: the part of a grid outside its parent.
	KindOutsideParent = "outside_parent"
	// KindParentNotCovered: part of a parent that its own children do not
	// cover, though leaves of other parents do.
	KindParentNotCovered = "parent_not_covered"
	// KindOutsideJurisdiction: the part of a top-level grid outside the
	// jurisdiction given.
	KindOutsideJurisdiction = "outside_jurisdiction"
	// KindCodeMismatch: a code that disagrees with its level or parent.
	KindCodeMismatch = "code_mismatch"
	// KindMissingParent: a parent code absent from the set, or none given
	// below district level.
	KindMissingParent = "missing_parent"
	// KindDuplicateCode: two grids with one code.
	KindDuplicateCode = "duplicate_code"
	// KindBadCode: a code that is not 6, 9, 12 or 15 digits.
	KindBadCode = "bad_code"
	// KindCheckFailed: an overlay failed on degenerate input, so a part of
	// the set could not be checked.
	KindCheckFailed = "check_failed"
)

// kindOrder is the order problems are listed in, most urgent first.
var kindOrder = map[string]int{
	KindGap: 0, KindOverlap: 1, KindInvalidGeometry: 2, KindOutsideParent: 3,
	KindParentNotCovered: 4, KindOutsideJurisdiction: 5, KindCheckFailed: 6,
	KindDuplicateCode: 7, KindBadCode: 8, KindMissingParent: 9,
	KindCodeMismatch: 10, KindSliver: 11, KindMultipart: 12,
}

// Problem is one finding of Validate. Geometry (lon/lat, RFC 7946 winding)
// is the problem area where there is one; Place is a point inside it, or a
// point of the grid concerned.
type Problem struct {
	Kind     string
	Severity Severity
	Grids    []string
	AreaM2   float64
	Place    orb.Point
	HasPlace bool
	Geometry orb.Geometry
	Message  string
}

type problemJSON struct {
	Kind     string            `json:"kind"`
	Severity Severity          `json:"severity"`
	Grids    []string          `json:"grids,omitempty"`
	AreaM2   float64           `json:"area_m2,omitempty"`
	Place    *orb.Point        `json:"place,omitempty"`
	Geometry *geojson.Geometry `json:"geometry,omitempty"`
	Message  string            `json:"message"`
}

// MarshalJSON writes the geometry as a GeoJSON geometry and the place as
// [lon, lat].
func (p Problem) MarshalJSON() ([]byte, error) {
	j := problemJSON{Kind: p.Kind, Severity: p.Severity, Grids: p.Grids, AreaM2: round2(p.AreaM2), Message: p.Message}
	if p.HasPlace {
		pl := p.Place
		j.Place = &pl
	}
	if p.Geometry != nil {
		j.Geometry = geojson.NewGeometry(p.Geometry)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var j problemJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decode problem: %w", err)
	}
	*p = Problem{Kind: j.Kind, Severity: j.Severity, Grids: j.Grids, AreaM2: j.AreaM2, Message: j.Message}
	if j.Place != nil {
		p.Place, p.HasPlace = *j.Place, true
	}
	if j.Geometry != nil {
		p.Geometry = j.Geometry.Geometry()
	}
	return nil
}

func round2(v float64) float64 {
	if v >= 0 {
		return float64(int64(v*100+0.5)) / 100
	}
	return -float64(int64(-v*100+0.5)) / 100
}

// key identifies a problem across two validations of a set, for Delta.
func (p Problem) key() string {
	return fmt.Sprintf("%s|%s|%s|%.0f", p.Kind, p.Severity, strings.Join(p.Grids, ","), p.AreaM2)
}

// Summary counts what Validate found.
type Summary struct {
	Grids              int            `json:"grids"`
	Leaves             int            `json:"leaves"`
	Errors             int            `json:"errors"`
	Warnings           int            `json:"warnings"`
	ByKind             map[string]int `json:"by_kind"`
	JurisdictionAreaM2 float64        `json:"jurisdiction_area_m2"`
	LeafAreaM2         float64        `json:"leaf_area_m2"`
	GapAreaM2          float64        `json:"gap_area_m2"`
	OverlapAreaM2      float64        `json:"overlap_area_m2"`
	// NeighbourPairs is the number of leaf pairs whose boxes meet;
	// PairOverlays those the edge test could not clear, run through the
	// exact overlay. ExactFamilies counts the parents whose children's
	// edges did not cancel to the parent's and were overlaid.
	NeighbourPairs int    `json:"neighbour_pairs"`
	PairOverlays   int    `json:"pair_overlays"`
	ExactFamilies  int    `json:"exact_families"`
	Projection     string `json:"projection"`
}

// Report is the result of Validate.
type Report struct {
	Problems []Problem `json:"problems"`
	Summary  Summary   `json:"summary"`
}

// OK tells whether the set has no error (warnings allowed).
func (r Report) OK() bool { return r.Summary.Errors == 0 }

// Clean tells whether the set has no problem at all.
func (r Report) Clean() bool { return len(r.Problems) == 0 }

// GeoJSON returns the problems as features: the problem area where there
// is one, else the place as a point; problems with neither are left out.
// Properties: kind, severity, grids, area_m2, message.
func (r Report) GeoJSON() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, p := range r.Problems {
		var g orb.Geometry
		switch {
		case p.Geometry != nil:
			g = p.Geometry
		case p.HasPlace:
			g = p.Place
		default:
			continue
		}
		f := geojson.NewFeature(g)
		f.Properties["kind"] = p.Kind
		f.Properties["severity"] = string(p.Severity)
		f.Properties["grids"] = append([]string{}, p.Grids...)
		f.Properties["area_m2"] = round2(p.AreaM2)
		f.Properties["message"] = p.Message
		fc.Append(f)
	}
	return fc
}

// WriteText prints the report for a terminal: a summary line, then one
// line per problem, errors first.
func (r Report) WriteText(w io.Writer) error {
	s := r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "%d grids, %d of level grid; jurisdiction %.0f m², grids of level grid %.0f m²\n", s.Grids, s.Leaves, s.JurisdictionAreaM2, s.LeafAreaM2)
	if len(r.Problems) == 0 {
		b.WriteString("no problems: no gaps, no overlaps, geometry and codes valid\n")
	} else {
		fmt.Fprintf(&b, "%d errors, %d warnings", s.Errors, s.Warnings)
		if s.GapAreaM2 > 0 || s.OverlapAreaM2 > 0 {
			fmt.Fprintf(&b, " (gaps %.2f m², overlaps %.2f m²)", s.GapAreaM2, s.OverlapAreaM2)
		}
		b.WriteString("\n")
		kinds := make([]string, 0, len(s.ByKind))
		for k := range s.ByKind {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool { return kindOrder[kinds[i]] < kindOrder[kinds[j]] })
		for _, k := range kinds {
			fmt.Fprintf(&b, "  %-22s %d\n", k, s.ByKind[k])
		}
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "%-7s %-20s", p.Severity, p.Kind)
			if len(p.Grids) > 0 {
				fmt.Fprintf(&b, " [%s]", strings.Join(p.Grids, " "))
			}
			if p.AreaM2 > 0 {
				fmt.Fprintf(&b, " %.2f m²", p.AreaM2)
			}
			if p.HasPlace {
				fmt.Fprintf(&b, " at %.6f,%.6f", p.Place[0], p.Place[1])
			}
			fmt.Fprintf(&b, ": %s\n", p.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Delta is the change in validation made by an edit.
type Delta struct {
	Added   []Problem `json:"added"`
	Removed []Problem `json:"removed"`
}

// DeltaOf lists the problems of after that were not in before (Added) and
// those of before that are gone (Removed). Problems are matched on kind,
// severity, grids and area to the square metre, so a problem whose area
// changed shows as removed and added.
func DeltaOf(before, after Report) Delta {
	count := map[string]int{}
	for _, p := range before.Problems {
		count[p.key()]++
	}
	d := Delta{Added: []Problem{}, Removed: []Problem{}}
	for _, p := range after.Problems {
		k := p.key()
		if count[k] > 0 {
			count[k]--
			continue
		}
		d.Added = append(d.Added, p)
	}
	for _, p := range before.Problems {
		k := p.key()
		if count[k] > 0 {
			count[k]--
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}

// sortProblems orders problems errors first, then by kind, grids, and
// place, so that reports are deterministic.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Severity != b.Severity {
			return a.Severity == SeverityError
		}
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		ga, gb := strings.Join(a.Grids, ","), strings.Join(b.Grids, ",")
		if ga != gb {
			return ga < gb
		}
		if a.Place[0] != b.Place[0] {
			return a.Place[0] < b.Place[0]
		}
		return a.Place[1] < b.Place[1]
	})
}
