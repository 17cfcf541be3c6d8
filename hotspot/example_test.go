package hotspot_test

import (
	"fmt"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/hotspot"
)

// Gi* on esda's six-point example: a distance band of 15 with each point in
// its own neighbourhood.
func ExampleGiStar() {
	xs := []float64{10, 20, 40, 15, 30, 30}
	ys := []float64{10, 10, 10, 20, 20, 30}
	nb, err := hotspot.DistanceBand(xs, ys, 15, true)
	if err != nil {
		panic(err)
	}
	z, err := hotspot.GiStar([]float64{2, 3, 3.2, 5, 8, 7}, nb)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", z)
	// Output: [-1.3973 -0.2892 0.6506 -0.2892 1.2345 2.0242]
}

// A hot spot query as the API runs it: cells over the jurisdiction's box,
// counts from incident columns, Gi* with the default band, FDR bins.
func ExampleGrid_Hotspots() {
	box := orb.Bound{Min: orb.Point{116.30, 39.85}, Max: orb.Point{116.34, 39.88}}
	g, err := hotspot.NewGrid(box, 250, nil)
	if err != nil {
		panic(err)
	}
	// Sixty incidents in the middle cell, one in each cell elsewhere.
	mid := g.NY/2*g.NX + g.NX/2
	var p hotspot.Points
	at := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC).Unix()
	for i := 0; i < g.Len(); i++ {
		c := g.Bound(i).Center()
		n := 1
		if i == mid {
			n = 60
		}
		for range n {
			p.Lon, p.Lat = append(p.Lon, c[0]), append(p.Lat, c[1])
			p.ReportedAt = append(p.ReportedAt, at)
		}
	}
	res, err := g.Hotspots(p, hotspot.Filter{}, hotspot.HotspotOptions{})
	if err != nil {
		panic(err)
	}
	hot := 0
	for _, b := range res.Bins {
		if b > 0 {
			hot++
		}
	}
	fmt.Printf("%d cells, band %.0f m, %d hot, centre bin %d\n", g.Len(), res.BandM, hot, res.Bins[mid])
	// Output: 196 cells, band 250 m, 5 hot, centre bin 3
}
