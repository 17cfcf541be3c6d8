package hotspot

import (
	"errors"
	"fmt"
)

// NeighbourOptions choose the conceptualisation of spatial relationships
// shared by hot spot and emerging analysis.
type NeighbourOptions struct {
	// BandM is the fixed distance band in metres between cell centres;
	// 0 means the grid's DefaultBand.
	BandM float64
	// K > 0 switches to k-nearest neighbours (k other cells) instead of a
	// distance band.
	K int
}

// neighbours builds the lists for the grid; self is included for Gi*.
func (o NeighbourOptions) build(g *Grid, includeSelf bool) (Neighbours, float64, error) {
	if o.K > 0 {
		xs, ys := g.Centers()
		nb, err := KNearest(xs, ys, o.K, includeSelf)
		return nb, 0, err
	}
	if o.BandM < 0 {
		return Neighbours{}, 0, fmt.Errorf("negative band %v m", o.BandM)
	}
	band := o.BandM
	if band == 0 {
		var err error
		if band, err = g.DefaultBand(); err != nil {
			return Neighbours{}, 0, err
		}
	}
	nb, err := g.Neighbours(band, includeSelf)
	return nb, band, err
}

// HotspotOptions configure Hotspots.
type HotspotOptions struct {
	NeighbourOptions
	// ExcludeSelf computes Gi (the cell left out of its own neighbourhood)
	// instead of Gi*.
	ExcludeSelf bool
}

// HotspotResult holds, per kept cell of the grid, the count and its Gi*
// z-score, two-sided p-value and FDR confidence bin (−3…3).
type HotspotResult struct {
	Counts []float64
	Z, P   []float64
	Bins   []int8
	BandM  float64 // the distance band used; 0 with k-nearest
}

// Hotspots bins the points passing f into the grid's cells and runs Gi* over
// every kept cell, empty ones included.
func (g *Grid) Hotspots(p Points, f Filter, opt HotspotOptions) (*HotspotResult, error) {
	counts, err := g.Count(p, f)
	if err != nil {
		return nil, fmt.Errorf("hotspots: %w", err)
	}
	if g.Len() < 3 {
		return nil, errors.New("hotspots: needs at least three cells")
	}
	nb, band, err := opt.build(g, !opt.ExcludeSelf)
	if err != nil {
		return nil, fmt.Errorf("hotspots: neighbours: %w", err)
	}
	var z []float64
	if opt.ExcludeSelf {
		z, err = Gi(counts, nb)
	} else {
		z, err = GiStar(counts, nb)
	}
	if err != nil {
		return nil, fmt.Errorf("hotspots: %w", err)
	}
	pv := PValues(z)
	return &HotspotResult{Counts: counts, Z: z, P: pv, Bins: FDRBins(z, pv), BandM: band}, nil
}

// EmergingOptions configure EmergingHotspots.
type EmergingOptions struct {
	NeighbourOptions
	Step Step
	// TimeSteps is ArcGIS's neighbourhood time step: how many previous
	// slices of each spatial neighbour join the neighbourhood; 0 means 1.
	TimeSteps int
	// TrendAlpha is the Mann–Kendall significance level; 0 means 0.05.
	TrendAlpha float64
}

// EmergingHotspots builds the space-time cube of the points passing f over
// [f.From, f.To) and classifies every kept cell.
func (g *Grid) EmergingHotspots(p Points, f Filter, opt EmergingOptions) (*EmergingResult, *Cube, error) {
	cube, err := g.Cube(p, f, opt.Step)
	if err != nil {
		return nil, nil, fmt.Errorf("emerging: %w", err)
	}
	nb, band, err := opt.build(g, true)
	if err != nil {
		return nil, nil, fmt.Errorf("emerging: neighbours: %w", err)
	}
	res, err := Emerging(cube, nb, opt.TimeSteps, opt.TrendAlpha)
	if err != nil {
		return nil, nil, err
	}
	res.BandM = band
	return res, cube, nil
}
