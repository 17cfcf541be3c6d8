package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gridd/gridd/hotspot"
)

// defaultSlices is how many steps an emerging analysis covers when from is
// not given: four weeks of days, twelve weeks or twelve months (ArcGIS asks
// for at least ten slices).
func defaultSlices(step hotspot.Step) (days, months int) {
	switch step {
	case hotspot.StepDay:
		return 28, 0
	case hotspot.StepWeek:
		return 12 * 7, 0
	}
	return 0, 12
}

// minSlices is the fewest time slices a trend test can say anything on.
const minSlices = 3

type emergingMeta struct {
	Type           string         `json:"type"`
	SetID          int64          `json:"set_id"`
	Step           string         `json:"step"`
	From           time.Time      `json:"from"` // start of the first whole slice
	To             time.Time      `json:"to"`
	Slices         []string       `json:"slices"` // slice boundaries, T+1 of them
	Categories     []string       `json:"categories"`
	CellM          float64        `json:"cell_m"`
	BandM          *float64       `json:"band_m"`
	K              *int           `json:"k"`
	TimeSteps      int            `json:"time_steps"`
	TrendAlpha     float64        `json:"trend_alpha"`
	N              int            `json:"n"`
	Incidents      int            `json:"incidents"`
	Patterns       map[string]int `json:"patterns"` // cells per category
	Projection     projectionMeta `json:"projection"`
	Lattice        latticeMeta    `json:"lattice"`
	NumberReturned int            `json:"numberReturned"`
}

// GET /api/v1/emerging?from=&to=&step=day|week|month&cell_m=&band_m=&k=&category=&time_steps=&series=
//
// Emerging hot spot analysis of the space-time cube (hotspot.EmergingHotspots):
// each cell of the jurisdiction with its category ("new_hot_spot", …,
// "no_pattern"), its Mann–Kendall trend z and p over its Gi* z-scores, its
// incident count and its hot and cold slices; series=true adds each cell's
// counts, z-scores and bins per slice. step defaults to week, to to the end
// of the day of the latest incident (or now), from to 28 days, 12 weeks or
// 12 months before to; slices are aligned to to.
func (an *analytics) handleEmerging(w http.ResponseWriter, r *http.Request) error {
	acc := AccessOf(r)
	if err := require(r, RoleAnalyst); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	from, to, hasFrom, hasTo := readPeriod(q)
	step := hotspot.StepWeek
	if s := q.str("step"); s != "" {
		var err error
		if step, err = hotspot.ParseStep(s); err != nil {
			q.fail("step", "%v", err)
		}
	}
	cats := an.categories(q, "category")
	timeSteps := q.int("time_steps", 1, 1, 12)
	series := q.str("series") == "true" || q.str("series") == "1"
	cp, perr := readCellParams(q)
	if perr != nil {
		return perr
	}
	rs := an.points(acc.Scope)
	if !hasTo {
		to = defaultEnd(rs.latest, time.Now())
	}
	if !hasFrom {
		days, months := defaultSlices(step)
		from = to.AddDate(0, -months, -days)
	}
	bounds, err := step.Boundaries(from, to)
	if err != nil {
		return unprocessable("%v", err)
	}
	T := len(bounds) - 1
	if T < minSlices {
		return unprocessable("[%s, %s) holds %d whole %ss; the trend test needs at least %d",
			from.Format(time.RFC3339), to.Format(time.RFC3339), T, step, minSlices)
	}
	ix, err := an.setAt(setTime(to, true))
	if err != nil {
		return err
	}
	g, err := an.grid(ix, acc.Scope, cp.cellM)
	if err != nil {
		return err
	}
	if g.Len()*T > maxCubeBins {
		return unprocessable("%d cells × %d slices is more than %d bins: use a larger cell_m or step, or a shorter period", g.Len(), T, maxCubeBins)
	}
	if g.Len() < 3 {
		return unprocessable("the jurisdiction holds %d cells of this size; the analysis needs at least 3", g.Len())
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	f, none := filterFor(from, to, cats, rs.view)
	pts := rs.pts
	if none {
		pts = hotspot.Points{Lon: []float64{}, Lat: []float64{}, ReportedAt: []int64{}, Category: []uint16{}}
	}
	opt := hotspot.EmergingOptions{NeighbourOptions: cp.neighbours(), Step: step, TimeSteps: timeSteps}
	res, cube, err := g.EmergingHotspots(pts, f, opt)
	if err != nil {
		return unprocessable("%v", err)
	}

	meta := emergingMeta{
		Type: "FeatureCollection", SetID: ix.Set().ID, Step: step.String(),
		From: bounds[0], To: to, CellM: cp.cellM, TimeSteps: timeSteps, TrendAlpha: 0.05,
		N: g.Len(), Patterns: map[string]int{}, Projection: projectionOf(g), Lattice: latticeOf(g),
		NumberReturned: g.Len(),
	}
	for _, b := range bounds {
		meta.Slices = append(meta.Slices, b.Format(time.RFC3339))
	}
	if cats != nil {
		meta.Categories = sortedKeys(cats)
	}
	if cp.k > 0 {
		meta.K = &cp.k
	} else {
		meta.BandM = &res.BandM
	}
	totals := make([]int, g.Len())
	for t := range cube.T {
		for i := range totals {
			totals[i] += int(cube.At(i, t))
		}
	}
	cells := make([]int, g.Len())
	for i := range cells {
		cells[i] = i
		meta.Incidents += totals[i]
		meta.Patterns[res.Category[i].String()]++
	}
	N := res.N
	return writeCells(w, meta, cells, func(buf []byte, i int) []byte {
		buf = appendCellHead(buf, g, i)
		c := res.Category[i]
		buf = append(buf, `,"category":"`...)
		buf = append(buf, c.String()...)
		buf = append(buf, `","category_code":`...)
		buf = strconv.AppendInt(buf, int64(c), 10)
		buf = append(buf, `,"trend_z":`...)
		buf = appendNumber(buf, res.Trend[i].Z)
		buf = append(buf, `,"trend_p":`...)
		buf = appendNumber(buf, res.Trend[i].P)
		buf = append(buf, `,"count":`...)
		buf = strconv.AppendInt(buf, int64(totals[i]), 10)
		var hot, cold int
		for t := range T {
			switch b := res.Bins[t*N+i]; {
			case b > 0:
				hot++
			case b < 0:
				cold++
			}
		}
		buf = append(buf, `,"hot_slices":`...)
		buf = strconv.AppendInt(buf, int64(hot), 10)
		buf = append(buf, `,"cold_slices":`...)
		buf = strconv.AppendInt(buf, int64(cold), 10)
		if series {
			buf = append(buf, `,"counts":[`...)
			for t := range T {
				if t > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendInt(buf, int64(cube.At(i, t)), 10)
			}
			buf = append(buf, `],"z":[`...)
			for t := range T {
				if t > 0 {
					buf = append(buf, ',')
				}
				buf = appendNumber(buf, res.Z[t*N+i])
			}
			buf = append(buf, `],"bins":[`...)
			for t := range T {
				if t > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendInt(buf, int64(res.Bins[t*N+i]), 10)
			}
			buf = append(buf, ']')
		}
		return buf
	})
}
