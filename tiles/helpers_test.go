package tiles

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
)

var update = flag.Bool("update", false, "rewrite the golden tiles in testdata/golden")

// The test city lies inside tile 10/843/388: a district split into two
// streets (one community each) and six grids: a square with a hole, the
// island filling the hole, two triangles sharing a diagonal, and two
// rectangles sharing a zigzag edge that simplification removes at low zoom.
const (
	cityW, cityMid, cityE = 116.45, 116.55, 116.65
	cityS, cityMidLat     = 39.75, 39.80
	cityN                 = 39.85
)

var cityTile = TileID{Z: 10, X: 843, Y: 388}

func rect(w, s, e, n float64) orb.Ring {
	return orb.Ring{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
}

func reversed(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// zigzagEdge is the edge between the two eastern grids, west to east.
func zigzagEdge() []orb.Point {
	var pts []orb.Point
	for i := 0; i <= 20; i++ {
		y := cityMidLat
		if i%2 == 1 {
			y += 0.0003
		}
		pts = append(pts, orb.Point{cityMid + float64(i)*0.005, y})
	}
	pts[20][0] = cityE // exact end point
	return pts
}

func testCity() []*grids.Grid {
	mk := func(code, name string, lv grids.Level, parent string, polys ...orb.Polygon) *grids.Grid {
		return &grids.Grid{Code: code, Name: name, Level: lv, Parent: parent, Geometry: orb.MultiPolygon(polys)}
	}
	hole := rect(116.46, 39.78, 116.48, 39.82)
	zz := zigzagEdge()
	south := orb.Ring{{cityMid, cityS}, {cityE, cityS}}
	for i := len(zz) - 1; i >= 0; i-- {
		south = append(south, zz[i])
	}
	south = append(south, orb.Point{cityMid, cityS})
	north := orb.Ring{}
	north = append(north, zz...)
	north = append(north, orb.Point{cityE, cityN}, orb.Point{cityMid, cityN}, zz[0])
	return []*grids.Grid{
		mk("110101", "东城区", grids.LevelDistrict, "", orb.Polygon{rect(cityW, cityS, cityE, cityN)}),
		mk("110101001", "东华门街道", grids.LevelStreet, "110101", orb.Polygon{rect(cityW, cityS, cityMid, cityN)}),
		mk("110101002", "景山街道", grids.LevelStreet, "110101", orb.Polygon{rect(cityMid, cityS, cityE, cityN)}),
		mk("110101001001", "多福巷社区", grids.LevelCommunity, "110101001", orb.Polygon{rect(cityW, cityS, cityMid, cityN)}),
		mk("110101002001", "吉祥社区", grids.LevelCommunity, "110101002", orb.Polygon{rect(cityMid, cityS, cityE, cityN)}),
		mk("110101001001001", "网格一", grids.LevelGrid, "110101001001",
			orb.Polygon{rect(cityW, cityS, 116.50, cityN), reversed(hole)}),
		mk("110101001001002", "网格二", grids.LevelGrid, "110101001001", orb.Polygon{hole}),
		mk("110101001001003", "网格三", grids.LevelGrid, "110101001001",
			orb.Polygon{{{116.50, cityS}, {cityMid, cityS}, {cityMid, cityMidLat}, {cityMid, cityN}, {116.50, cityS}}}),
		mk("110101001001004", "网格四", grids.LevelGrid, "110101001001",
			orb.Polygon{{{116.50, cityS}, {cityMid, cityN}, {116.50, cityN}, {116.50, cityS}}}),
		mk("110101002001001", "网格五", grids.LevelGrid, "110101002001", orb.Polygon{south}),
		mk("110101002001002", "网格六", grids.LevelGrid, "110101002001", orb.Polygon{north}),
	}
}

// testPoints scatters n incidents over the test city, denser in its
// south-west, deterministic for a seed.
func testPoints(n int, seed uint64) []IndexedPoint {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cats := []string{"0101", "0102", "0201", "0301"}
	pts := make([]IndexedPoint, n)
	for i := range pts {
		u, v := rng.Float64(), rng.Float64()
		if i%3 == 0 {
			u, v = u*u, v*v
		}
		pts[i] = IndexedPoint{
			Row:        uint32(i),
			Lon:        cityW + u*(cityE-cityW),
			Lat:        cityS + v*(cityN-cityS),
			ReportedAt: base.Add(time.Duration(rng.IntN(90*24)) * time.Hour),
			Category:   cats[rng.IntN(len(cats))],
		}
	}
	return pts
}

// attrTable is an AttrSource over a slice.
type attrTable []IncidentAttrs

func (a attrTable) IncidentAttrs(row uint32) (IncidentAttrs, bool) {
	if int(row) >= len(a) {
		return IncidentAttrs{}, false
	}
	return a[row], true
}

func testAttrs(pts []IndexedPoint) attrTable {
	statuses := []string{"reported", "filed", "dispatched", "handled", "closed"}
	out := make(attrTable, len(pts))
	for i, p := range pts {
		out[i] = IncidentAttrs{
			ID:       int64(1000 + i),
			Category: p.Category,
			Status:   statuses[i%len(statuses)],
			Grid:     "110101001001001",
		}
	}
	return out
}

// testHotCells covers the city with 0.01° cells.
func testHotCells() []HotCell {
	var cells []HotCell
	i := 0
	for lon := cityW; lon < cityE-1e-9; lon += 0.01 {
		for lat := cityS; lat < cityN-1e-9; lat += 0.01 {
			bin := int8(i%7 - 3)
			cells = append(cells, HotCell{
				Bound: orb.Bound{Min: orb.Point{lon, lat}, Max: orb.Point{lon + 0.01, lat + 0.01}},
				Count: i % 9,
				Z:     float64(bin) * 1.2,
				P:     0.5 / float64(1+i%7),
				Bin:   bin,
			})
			i++
		}
	}
	return cells
}

// wigglyCity tiles the rectangle from origin (south-west) with nx × ny
// irregular cells of about cellDeg degrees: interior lattice vertices are
// jittered and interior edges wiggle through extra vertices, each edge
// stored once and shared by its two cells, so that the cells meet exactly.
// Communities are blocks of comm × comm cells, streets of street × street,
// districts of dist × dist; every level covers the same rectangle.
func wigglyCity(seed uint64, origin orb.Point, cellDeg float64, nx, ny, comm, street, dist int) []*grids.Grid {
	rng := rand.New(rand.NewPCG(seed, 3))
	vert := make([][]orb.Point, nx+1)
	for i := range vert {
		vert[i] = make([]orb.Point, ny+1)
		for j := range vert[i] {
			p := orb.Point{origin[0] + float64(i)*cellDeg, origin[1] + float64(j)*cellDeg*0.8}
			if i > 0 && i < nx && j > 0 && j < ny {
				p[0] += (rng.Float64() - 0.5) * 0.5 * cellDeg
				p[1] += (rng.Float64() - 0.5) * 0.4 * cellDeg
			}
			vert[i][j] = p
		}
	}
	edge := func(a, b orb.Point, interior bool) []orb.Point {
		pts := []orb.Point{a}
		if interior {
			k := 3 + rng.IntN(5)
			dx, dy := b[0]-a[0], b[1]-a[1]
			for s := 1; s <= k; s++ {
				t := float64(s) / float64(k+1)
				w := (rng.Float64() - 0.5) * 0.15
				pts = append(pts, orb.Point{a[0] + t*dx - w*dy, a[1] + t*dy + w*dx})
			}
		}
		return append(pts, b)
	}
	// h[i][j]: vert[i][j] → vert[i+1][j]; v[i][j]: vert[i][j] → vert[i][j+1].
	h := make([][][]orb.Point, nx)
	for i := range h {
		h[i] = make([][]orb.Point, ny+1)
		for j := range h[i] {
			h[i][j] = edge(vert[i][j], vert[i+1][j], j > 0 && j < ny)
		}
	}
	v := make([][][]orb.Point, nx+1)
	for i := range v {
		v[i] = make([][]orb.Point, ny)
		for j := range v[i] {
			v[i][j] = edge(vert[i][j], vert[i][j+1], i > 0 && i < nx)
		}
	}
	// block walks the boundary of cells [i0,i1) × [j0,j1) counter-clockwise.
	block := func(i0, j0, i1, j1 int) orb.Polygon {
		var r orb.Ring
		add := func(pts []orb.Point, rev bool) {
			if rev {
				for k := len(pts) - 1; k > 0; k-- {
					r = append(r, pts[k])
				}
				return
			}
			r = append(r, pts[:len(pts)-1]...)
		}
		for i := i0; i < i1; i++ {
			add(h[i][j0], false)
		}
		for j := j0; j < j1; j++ {
			add(v[i1][j], false)
		}
		for i := i1 - 1; i >= i0; i-- {
			add(h[i][j1], true)
		}
		for j := j1 - 1; j >= j0; j-- {
			add(v[i0][j], true)
		}
		return orb.Polygon{append(r, r[0])}
	}
	var out []*grids.Grid
	code := func(parts ...int) string {
		s := fmt.Sprintf("%06d", parts[0])
		for _, p := range parts[1:] {
			s += fmt.Sprintf("%03d", p)
		}
		return s
	}
	for di := 0; di*dist < nx; di++ {
		for dj := 0; dj*dist < ny; dj++ {
			d := 110000 + di*10 + dj
			dc := code(d)
			out = append(out, &grids.Grid{Code: dc, Name: "district " + dc, Level: grids.LevelDistrict,
				Geometry: orb.MultiPolygon{block(di*dist, dj*dist, min(nx, (di+1)*dist), min(ny, (dj+1)*dist))}})
			sn := 0
			for si := di * dist; si < min(nx, (di+1)*dist); si += street {
				for sj := dj * dist; sj < min(ny, (dj+1)*dist); sj += street {
					sn++
					sc := code(d, sn)
					out = append(out, &grids.Grid{Code: sc, Name: "street " + sc, Level: grids.LevelStreet, Parent: dc,
						Geometry: orb.MultiPolygon{block(si, sj, min(nx, si+street, (di+1)*dist), min(ny, sj+street, (dj+1)*dist))}})
					cn := 0
					for ci := si; ci < min(nx, si+street, (di+1)*dist); ci += comm {
						for cj := sj; cj < min(ny, sj+street, (dj+1)*dist); cj += comm {
							cn++
							cc := code(d, sn, cn)
							ci1 := min(nx, ci+comm, si+street, (di+1)*dist)
							cj1 := min(ny, cj+comm, sj+street, (dj+1)*dist)
							out = append(out, &grids.Grid{Code: cc, Name: "community " + cc, Level: grids.LevelCommunity, Parent: sc,
								Geometry: orb.MultiPolygon{block(ci, cj, ci1, cj1)}})
							gn := 0
							for gi := ci; gi < ci1; gi++ {
								for gj := cj; gj < cj1; gj++ {
									gn++
									gc := code(d, sn, cn, gn)
									out = append(out, &grids.Grid{Code: gc, Name: "grid " + gc, Level: grids.LevelGrid, Parent: cc,
										Geometry: orb.MultiPolygon{block(gi, gj, gi+1, gj+1)}})
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}
