package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gridd/gridd/hotspot"
)

// Statistic names of the gi parameter.
const (
	statGiStar = "gi_star" // the cell in its own neighbourhood (default)
	statGi     = "gi"      // the cell left out
)

// hotspotsMeta are the top-level members of a /hotspots response: what is
// needed to recompute it from its cells.
type hotspotsMeta struct {
	Type       string     `json:"type"`
	SetID      int64      `json:"set_id"`
	Statistic  string     `json:"statistic"`
	From       *time.Time `json:"from"`
	To         *time.Time `json:"to"`
	Categories []string   `json:"categories"` // catalogue codes; null: all
	CellM      float64    `json:"cell_m"`
	// BandM is the distance band used (null with k nearest neighbours);
	// binary weights, centres at most band_m apart, inclusive.
	BandM      *float64       `json:"band_m"`
	K          *int           `json:"k"`
	N          int            `json:"n"`         // cells analysed
	Incidents  int            `json:"incidents"` // incidents counted in them
	FDRLevels  []float64      `json:"fdr_levels"`
	Projection projectionMeta `json:"projection"`
	Lattice    latticeMeta    `json:"lattice"`
	// KAnonymity is set for viewers: cells with fewer incidents are left
	// out, and z and p withheld.
	KAnonymity     int `json:"k_anonymity,omitempty"`
	NumberReturned int `json:"numberReturned"`
}

// GET /api/v1/hotspots?from=&to=&category=&cell_m=&band_m=&k=&gi=
//
// Getis-Ord Gi* over every cell of the jurisdiction (the key's scope
// subtree for a scoped key), empty cells included: a GeoJSON
// FeatureCollection of cell squares with col, row, count, z, p and bin.
// cell_m defaults to 250 m; band_m to hotspot's default band (the largest
// nearest-neighbour distance: cell_m on a lattice without isolated cells);
// k > 0 uses k nearest neighbours instead; gi=gi leaves each cell out of its
// own neighbourhood. from and to default to all incidents held.
func (an *analytics) handleHotspots(w http.ResponseWriter, r *http.Request) error {
	acc := AccessOf(r)
	if err := require(r, RoleViewer); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	from, to, hasFrom, hasTo := readPeriod(q)
	cats := an.categories(q, "category")
	stat := q.str("gi")
	if stat == "" {
		stat = statGiStar
	}
	if stat != statGiStar && stat != statGi {
		q.fail("gi", "%q is not %s or %s", stat, statGiStar, statGi)
	}
	cp, perr := readCellParams(q)
	if perr != nil {
		return perr
	}
	ix, err := an.setAt(setTime(to, hasTo))
	if err != nil {
		return err
	}
	g, err := an.grid(ix, acc.Scope, cp.cellM)
	if err != nil {
		return err
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	opt := hotspot.HotspotOptions{NeighbourOptions: cp.neighbours(), ExcludeSelf: stat == statGi}
	res, err := an.hotspots(an.points(acc.Scope), g, from, to, cats, opt)
	if err != nil {
		return err
	}

	meta := hotspotsMeta{
		Type: "FeatureCollection", SetID: ix.Set().ID, Statistic: stat,
		CellM: cp.cellM, N: g.Len(), FDRLevels: []float64{0.10, 0.05, 0.01},
		Projection: projectionOf(g), Lattice: latticeOf(g),
	}
	if hasFrom {
		meta.From = &from
	}
	if hasTo {
		meta.To = &to
	}
	if cats != nil {
		meta.Categories = sortedKeys(cats)
	}
	if cp.k > 0 {
		meta.K = &cp.k
	} else {
		meta.BandM = &res.BandM
	}
	minCount := float64(acc.MinCount())
	shown := make([]int, 0, g.Len())
	for i, c := range res.Counts {
		meta.Incidents += int(c)
		if c >= minCount {
			shown = append(shown, i)
		}
	}
	meta.NumberReturned = len(shown)
	if minCount > 0 {
		// A cell's z, with its neighbours' counts, gives away the counts of
		// the small cells left out; viewers get counts and bins only.
		meta.KAnonymity = int(minCount)
	}
	return writeCells(w, meta, shown, func(buf []byte, i int) []byte {
		buf = appendCellHead(buf, g, i)
		buf = append(buf, `,"count":`...)
		buf = strconv.AppendInt(buf, int64(res.Counts[i]), 10)
		if minCount > 0 {
			buf = append(buf, `,"z":null,"p":null`...)
		} else {
			buf = append(buf, `,"z":`...)
			buf = appendNumber(buf, res.Z[i])
			buf = append(buf, `,"p":`...)
			buf = appendNumber(buf, res.P[i])
		}
		buf = append(buf, `,"bin":`...)
		return strconv.AppendInt(buf, int64(res.Bins[i]), 10)
	})
}

// appendCellHead opens cell i's feature up to its first properties: id,
// geometry, col and row. The caller appends more properties and writeCells
// closes the feature.
func appendCellHead(buf []byte, g *hotspot.Grid, i int) []byte {
	buf = append(buf, `{"type":"Feature","id":`...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, `,"geometry":`...)
	buf = appendCellPolygon(buf, g, i)
	buf = append(buf, `,"properties":{"col":`...)
	buf = strconv.AppendInt(buf, int64(g.Col[i]), 10)
	buf = append(buf, `,"row":`...)
	return strconv.AppendInt(buf, int64(g.Row[i]), 10)
}

// writeCells streams a GeoJSON FeatureCollection: meta's members (meta
// marshals to an object starting with "type"), then one feature per cell
// of cells, written by feature and closed here. Large collections go out in
// chunks rather than one buffer of the whole response.
func writeCells(w http.ResponseWriter, meta any, cells []int, feature func(buf []byte, i int) []byte) error {
	head, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode response members: %w", err)
	}
	if len(head) < 2 || head[len(head)-1] != '}' {
		return fmt.Errorf("encode response members: not an object")
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, head[:len(head)-1]...)
	buf = append(buf, `,"features":[`...)
	for k, i := range cells {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = feature(buf, i)
		buf = append(buf, "}}"...)
		if len(buf) >= 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return nil // the client left; nothing more to tell it
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}\n"...)
	_, _ = w.Write(buf)
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
