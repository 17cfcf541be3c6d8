package gpkg

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/storetest"
)

func BenchmarkIngestNDJSON(b *testing.B) { benchIngest(b, storetest.NDJSON(100000)) }

// BenchmarkIngestNDJSONFeed is the same with reports in time order, as a
// live feed sends them.
func BenchmarkIngestNDJSONFeed(b *testing.B) { benchIngest(b, storetest.FeedNDJSON(100000)) }

func benchIngest(b *testing.B, data []byte) {
	n := bytes.Count(data, []byte("\n"))
	cat := incidents.Builtin()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("bench%d.gpkg", i)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := storetest.CPUTime()
		st, err := store.Ingest(context.Background(), s, bytes.NewReader(data), store.IngestOptions{Catalogue: cat, BatchSize: 10000})
		if err != nil {
			b.Fatal(err)
		}
		cpu += storetest.CPUTime() - c0
		if st.Created != n {
			b.Fatalf("created %d, want %d", st.Created, n)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-us/incident")
}

func BenchmarkInsertIncidents(b *testing.B) {
	const batch = 10000
	s, err := Open(filepath.Join(b.TempDir(), "bench.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	incs := storetest.Incidents(batch, 0)
	b.ReportAllocs()
	c0 := storetest.CPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, inc := range incs {
			inc.ExternalID = fmt.Sprintf("b%d-%d", i, k)
		}
		if _, err := s.InsertIncidents(context.Background(), incs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
	b.ReportMetric(float64((storetest.CPUTime()-c0).Microseconds())/float64(batch*b.N), "cpu-us/incident")
}

// BenchmarkLoadColumns is the start-up load: every incident of a store of
// one million streamed into the in-memory columns.
func BenchmarkLoadColumns(b *testing.B) {
	const n = 1000000
	path := filepath.Join(b.TempDir(), "load.gpkg")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if err := storetest.Fill(context.Background(), s, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d incidents in %s", n, time.Since(start))
	b.ReportAllocs()
	c0 := storetest.CPUTime()
	b.ResetTimer()
	var cols *incidents.Columns
	for i := 0; i < b.N; i++ {
		cols = incidents.NewColumns()
		if err := s.ScanIncidents(context.Background(), func(inc *incidents.Incident) error {
			_, err := cols.Append(inc)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		if cols.Len() != n {
			b.Fatalf("loaded %d, want %d", cols.Len(), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
	b.ReportMetric(float64(cols.Bytes())/n, "column-bytes/incident")
	b.ReportMetric((storetest.CPUTime()-c0).Seconds()/float64(b.N), "cpu-s/load")
}
