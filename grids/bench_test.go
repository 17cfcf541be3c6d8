package grids_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
)

// The benchmarks run on the 50,000-grid demo city with uniformly random
// points over its box: the worst case for caches, and what a city-wide
// batch of incidents looks like.
var bench struct {
	once sync.Once
	set  *grids.Set
	xs   []float64
	ys   []float64
}

const benchPoints = 1 << 20

func benchCity(b *testing.B) (*grids.Set, []float64, []float64) {
	bench.once.Do(func() {
		gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 50000, Seed: 1})
		if err != nil {
			panic(err)
		}
		bench.set = &grids.Set{ID: 1, Status: grids.StatusPublished, Grids: gs}
		bb := gs[0].Bound()
		for _, g := range gs {
			bb = bb.Union(g.Bound())
		}
		rng := rand.New(rand.NewPCG(1, 2))
		bench.xs = make([]float64, benchPoints)
		bench.ys = make([]float64, benchPoints)
		for i := range bench.xs {
			bench.xs[i] = bb.Min[0] + rng.Float64()*(bb.Max[0]-bb.Min[0])
			bench.ys[i] = bb.Min[1] + rng.Float64()*(bb.Max[1]-bb.Min[1])
		}
	})
	return bench.set, bench.xs, bench.ys
}

func BenchmarkNewIndex50k(b *testing.B) {
	set, _, _ := benchCity(b)
	b.ReportAllocs()
	var ix *grids.Index
	for i := 0; i < b.N; i++ {
		var err error
		if ix, err = grids.NewIndex(set, grids.IndexOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ix.Bytes())/1e6, "index-MB")
	b.ReportMetric(float64(ix.Len()), "grids")
}

// Heap growth of building the index, measured by the runtime rather than
// estimated.
func BenchmarkIndexHeap50k(b *testing.B) {
	set, _, _ := benchCity(b)
	var before, after runtime.MemStats
	var ix *grids.Index
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&before)
		var err error
		if ix, err = grids.NewIndex(set, grids.IndexOptions{}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
	runtime.KeepAlive(ix)
}

func BenchmarkLocateOneByOne50k(b *testing.B) {
	set, xs, ys := benchCity(b)
	ix, err := grids.NewIndex(set, grids.IndexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		j := i & (benchPoints - 1)
		if ix.LocateCode(xs[j], ys[j]) != "" {
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// cpuTime is the processor time the process has used, all threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports points per second of wall time and, as
// points/cpu-s, per second of processor time: on a shared machine the
// second moves less with other people's load.
func reportRates(b *testing.B, points int, cpu0 time.Duration) {
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(points)/(cpuTime(b)-cpu0).Seconds(), "points/cpu-s")
}

func BenchmarkLocateBatch50k(b *testing.B) {
	set, xs, ys := benchCity(b)
	ix, err := grids.NewIndex(set, grids.IndexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int32, len(xs))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		ix.LocateBatch(xs, ys, out)
	}
	reportRates(b, b.N*len(xs), cpu0)
}

// The whole `gridd geocode` path: CSV parsing, geocoding, CSV writing.
func BenchmarkGeocodeCSV50k(b *testing.B) {
	set, xs, ys := benchCity(b)
	ix, err := grids.NewIndex(set, grids.IndexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var in bytes.Buffer
	in.WriteString("id,lon,lat\n")
	for i := range xs {
		in.WriteString(strconv.Itoa(i))
		in.WriteByte(',')
		in.WriteString(strconv.FormatFloat(xs[i], 'f', 7, 64))
		in.WriteByte(',')
		in.WriteString(strconv.FormatFloat(ys[i], 'f', 7, 64))
		in.WriteByte('\n')
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		if _, err := grids.GeocodeCSV(bytes.NewReader(data), io.Discard, io.Discard, ix, grids.CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, b.N*len(xs), cpu0)
}

// Loading a 50,000-grid city from its GeoJSON file and indexing it: what
// `gridd geocode --grids FILE` does before its first point.
func BenchmarkLoadAndIndex50k(b *testing.B) {
	set, _, _ := benchCity(b)
	var buf bytes.Buffer
	if err := fixtures.WriteGridsGeoJSON(&buf, set.Grids); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gs, err := grids.ReadGeoJSON(bytes.NewReader(data), grids.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := grids.NewIndex(&grids.Set{Grids: gs}, grids.IndexOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
