package api

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
)

// BenchmarkAnalyticsHotspots times GET /api/v1/hotspots end to end on the
// demo city (2,000 grids, 60,000 incidents) through an httptest server:
// points copy, Gi* with FDR bins and the GeoJSON of every cell.
func BenchmarkAnalyticsHotspots(b *testing.B) {
	city, recs, err := fixtures.Demo()
	if err != nil {
		b.Fatal(err)
	}
	f := newAnalyticsFixture(b, city, recs, true)
	end := fixtures.DefaultEnd()
	qt := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
	month := fmt.Sprintf("from=%s&to=%s", qt(end.AddDate(0, 0, -28)), qt(end))
	cases := []struct {
		name, query string
		gzip        bool // as browsers ask; plain shows the handler's own cost
	}{
		{"cell250", month, true},
		{"cell250_plain", month, false},
		{"cell100", month + "&cell_m=100", true},
		{"cell250_band750", fmt.Sprintf("from=%s&to=%s&band_m=750", qt(end.AddDate(0, 0, -120)), qt(end)), true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			u := f.http.URL + "/api/v1/hotspots?" + bc.query
			client := &http.Client{Transport: &http.Transport{DisableCompression: !bc.gzip}}
			defer client.CloseIdleConnections()
			get := func() int64 {
				resp, err := client.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %v", resp.StatusCode, err)
				}
				return n
			}
			bytes := get() // builds the analysis grid and the points copy
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
			b.ReportMetric(float64(bytes), "body_bytes")
		})
	}
}

// BenchmarkAnalyticsEmerging times GET /api/v1/emerging over the demo's
// 17 weeks.
func BenchmarkAnalyticsEmerging(b *testing.B) {
	city, recs, err := fixtures.Demo()
	if err != nil {
		b.Fatal(err)
	}
	f := newAnalyticsFixture(b, city, recs, true)
	end := fixtures.DefaultEnd()
	u := fmt.Sprintf("%s/api/v1/emerging?step=week&from=%s&to=%s", f.http.URL,
		url.QueryEscape(end.AddDate(0, 0, -120).Format(time.RFC3339)), url.QueryEscape(end.Format(time.RFC3339)))
	client := f.http.Client()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		resp, err := client.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}
