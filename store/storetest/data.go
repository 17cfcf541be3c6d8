package storetest

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// Data for the stores' benchmarks: deterministic, city-sized, shaped like
// the demo city's incidents.

// NDJSON returns n incident lines with external ids. Their reported_at
// jumps between months from one line to the next: the worst order for
// anything kept in time order (an index on reported_at, PostGIS's monthly
// partitions). FeedNDJSON has the order of a live feed.
func NDJSON(n int) []byte {
	return lines(n, func(i int) string {
		return fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d+08:00", 1+i%12, 1+i%28, i%24, i%60, (i/60)%60)
	})
}

// FeedNDJSON returns n incident lines as NDJSON does, but in the order a
// live feed sends them: reported_at rises, one report every two seconds.
func FeedNDJSON(n int) []byte {
	t0 := time.Date(2024, 3, 1, 8, 0, 0, 0, time.FixedZone("", 8*3600))
	return lines(n, func(i int) string { return t0.Add(time.Duration(2*i) * time.Second).Format(time.RFC3339) })
}

// lines makes the n lines of NDJSON and FeedNDJSON, the i-th reported at
// reportedAt(i).
func lines(n int, reportedAt func(i int) string) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"lon":%.7f,"lat":%.7f,"reported_at":"%s","category":"%s","external_id":"hl-%d","source":"hotline","description":"report %d"}`+"\n",
			116.2+float64(i%1000)*3e-4, 39.8+float64((i/1000)%1000)*3e-4, reportedAt(i),
			[]string{"E0102", "E0101", "C0101"}[i%3], i, i)
	}
	return b.Bytes()
}

// Incidents returns n new incidents (no external id), the k-th reported
// k seconds after a fixed time plus offset.
func Incidents(n, offset int) []*incidents.Incident {
	out := make([]*incidents.Incident, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range out {
		i := k + offset
		d := t0.Add(time.Duration(i)*time.Second + 72*time.Hour)
		out[k] = &incidents.Incident{
			Category: []string{"E0102", "E0101", "C0101"}[i%3], Source: incidents.SourcePatrol,
			ReportedAt: t0.Add(time.Duration(i) * time.Second),
			Lon:        116.2 + float64(i%1000)*3e-4, Lat: 39.8 + float64((i/1000)%1000)*3e-4,
			GridCode: fmt.Sprintf("110101001%03d%03d", i%50, i%7), Status: incidents.StatusReported, Deadline: &d,
		}
	}
	return out
}

// Fill stores n incidents in batches of 10,000.
func Fill(ctx context.Context, s store.Store, n int) error {
	const batch = 10000
	for done := 0; done < n; done += batch {
		if _, err := s.InsertIncidents(ctx, Incidents(min(batch, n-done), done)); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	return nil
}
