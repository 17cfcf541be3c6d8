package hotspot

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestKernelDensityPeakAndVolume(t *testing.T) {
	const h = 100.0
	r := Raster{X0: -500, Y0: -500, Cell: 5, NX: 200, NY: 200}
	// One point on a cell centre, weight 2.
	d, err := KernelDensity([]float64{2.5}, []float64{2.5}, []float64{2}, r, h)
	if err != nil {
		t.Fatal(err)
	}
	peak := d[100*r.NX+100]
	if want := 2 * 3 / (math.Pi * h * h); math.Abs(peak-want) > 1e-15 {
		t.Errorf("peak %v, want 2·3/(πh²) = %v", peak, want)
	}
	// Halfway out the kernel is (1 − 0.25)² = 9/16 of the peak.
	if half := d[100*r.NX+110]; math.Abs(half/peak-9.0/16) > 1e-12 {
		t.Errorf("at h/2: %v of the peak, want 9/16", half/peak)
	}
	// Beyond h nothing.
	if far := d[100*r.NX+121]; far != 0 {
		t.Errorf("beyond the bandwidth: %v", far)
	}
	var volume float64
	for _, v := range d {
		volume += v * r.Cell * r.Cell
	}
	if math.Abs(volume-2) > 0.01 {
		t.Errorf("volume %v, want the weight 2", volume)
	}
}

func TestKernelDensityBinnedMatchesExactOnCentres(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	const nx, ny, cell, h = 40, 30, 10.0, 37.0
	counts := make([]float64, nx*ny)
	var xs, ys []float64
	for range 300 {
		c, r := rng.IntN(nx), rng.IntN(ny)
		counts[r*nx+c]++
		xs = append(xs, (float64(c)+0.5)*cell)
		ys = append(ys, (float64(r)+0.5)*cell)
	}
	exact, err := KernelDensity(xs, ys, nil, Raster{Cell: cell, NX: nx, NY: ny}, h)
	if err != nil {
		t.Fatal(err)
	}
	binned, err := KernelDensityBinned(counts, nx, ny, cell, h)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "binned", binned, exact, 1e-15)
}

func TestDefaultBandwidth(t *testing.T) {
	// A plus of five unit points: mean centre (0,0), distances 0,1,1,1,1,
	// median 1, standard distance √(4/5).
	xs := []float64{0, 1, -1, 0, 0}
	ys := []float64{0, 0, 0, 1, -1}
	h, err := DefaultBandwidth(xs, ys, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.9 * math.Min(math.Sqrt(0.8), math.Sqrt(1/math.Ln2)*1) * math.Pow(5, -0.2)
	if math.Abs(h-want) > 1e-12 {
		t.Errorf("bandwidth %v, want %v", h, want)
	}
	// An outlier far away inflates the standard distance thirtyfold but
	// barely moves the median distance, which then decides.
	rng := rand.New(rand.NewPCG(2, 2))
	var cx, cy []float64
	for range 1000 {
		a, rr := rng.Float64()*2*math.Pi, math.Sqrt(rng.Float64())
		cx, cy = append(cx, rr*math.Cos(a)), append(cy, rr*math.Sin(a))
	}
	base, err := DefaultBandwidth(cx, cy, nil)
	if err != nil {
		t.Fatal(err)
	}
	withOutlier, err := DefaultBandwidth(append(cx, 1000), append(cy, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if withOutlier > 2*base {
		t.Errorf("outlier moved the bandwidth from %v to %v", base, withOutlier)
	}
	if _, err := DefaultBandwidth([]float64{1, 1}, []float64{2, 2}, nil); err == nil {
		t.Error("coincident points accepted")
	}
}

func TestKernelDensityRejects(t *testing.T) {
	tests := []struct {
		name string
		r    Raster
		h    float64
	}{
		{"zero bandwidth", Raster{Cell: 1, NX: 2, NY: 2}, 0},
		{"zero cell", Raster{Cell: 0, NX: 2, NY: 2}, 1},
		{"empty raster", Raster{Cell: 1}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := KernelDensity([]float64{0}, []float64{0}, nil, tc.r, tc.h); err == nil {
				t.Error("no error")
			}
		})
	}
}
