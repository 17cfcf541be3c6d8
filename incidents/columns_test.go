package incidents

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func colIncident(id int64) *Incident {
	return &Incident{
		ID: id, Category: fmt.Sprintf("A01%02d", id%7), Source: SourceHotline,
		ReportedAt: t0.Add(time.Duration(id) * time.Minute),
		Lon:        116.3974125 + float64(id)*1e-5, Lat: 39.9087243 - float64(id)*1e-5,
		GridCode: fmt.Sprintf("110101001001%03d", id%13), Status: StatusReported,
	}
}

func TestColumnsRoundTrip(t *testing.T) {
	c := NewColumns()
	d := t0.Add(72 * time.Hour)
	closed := t0.Add(30 * time.Hour)
	in := []*Incident{
		colIncident(1),
		{ID: 2, Category: "B0203", Source: SourceVideo, ReportedAt: t0, Lon: -73.9857, Lat: 40.7484,
			Status: StatusClosed, Deadline: &d, ClosedAt: &closed, Reworks: 2, Extended: true},
		{ID: 3, Category: "A0101", ReportedAt: t0, Lon: 180, Lat: -90, Status: StatusRejected},
		{ID: 4, Category: "A0101", ReportedAt: t0.Add(999*time.Millisecond + 999*time.Microsecond), Status: StatusReported},
		{ID: 5, Category: "A0101", ReportedAt: t0.Add(-time.Millisecond), Status: StatusReported},
	}
	for _, inc := range in {
		if ok, err := c.Append(inc); err != nil || !ok {
			t.Fatalf("append %d: %v %v", inc.ID, ok, err)
		}
	}
	v := c.View()
	if v.Len() != len(in) {
		t.Fatalf("len %d", v.Len())
	}
	for i, inc := range in {
		// Milliseconds as the stores keep them: truncated, never rounded up.
		if got, want := v.ReportedAtMilli(i), inc.ReportedAt.UnixMilli(); got != want {
			t.Errorf("row %d reported at %d ms, want %d", i, got, want)
		}
		r := v.Row(i)
		var wantDeadline, wantClosed int64
		if inc.Deadline != nil {
			wantDeadline = inc.Deadline.Unix()
		}
		if inc.ClosedAt != nil {
			wantClosed = inc.ClosedAt.Unix()
		}
		want := Row{ID: inc.ID, Lon: r.Lon, Lat: r.Lat, ReportedAt: inc.ReportedAt.Unix(), Category: inc.Category,
			GridCode: inc.GridCode, Source: inc.Source, Status: inc.Status, Deadline: wantDeadline,
			ClosedAt: wantClosed, Reworks: inc.Reworks, Extended: inc.Extended}
		if r != want {
			t.Errorf("row %d = %+v, want %+v", i, r, want)
		}
		// 1e-7° fixed point: the error is at most half a unit.
		if d := r.Lon - inc.Lon; d > 0.5e-7 || d < -0.5e-7 {
			t.Errorf("row %d lon %v, want %v", i, r.Lon, inc.Lon)
		}
		if d := r.Lat - inc.Lat; d > 0.5e-7 || d < -0.5e-7 {
			t.Errorf("row %d lat %v, want %v", i, r.Lat, inc.Lat)
		}
	}
}

func TestColumnsAppendRejects(t *testing.T) {
	tests := []struct {
		name string
		inc  *Incident
	}{
		{name: "no id", inc: &Incident{Category: "A", ReportedAt: t0, Status: StatusReported}},
		{name: "before 1970", inc: &Incident{ID: 1, Category: "A", ReportedAt: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), Status: StatusReported}},
		{name: "unknown status", inc: &Incident{ID: 1, Category: "A", ReportedAt: t0, Status: "lost"}},
		{name: "latitude out of range", inc: &Incident{ID: 1, Category: "A", ReportedAt: t0, Lat: 91, Status: StatusReported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewColumns()
			if _, err := c.Append(tt.inc); err == nil {
				t.Fatal("want error")
			}
			if c.Len() != 0 {
				t.Fatal("rejected row was appended")
			}
		})
	}
}

func TestColumnsDuplicatesAndOutOfOrder(t *testing.T) {
	c := NewColumns()
	order := []int64{10, 20, 15, 30, 5, 25, 20, 10, 5}
	added := 0
	for _, id := range order {
		ok, err := c.Append(colIncident(id))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			added++
		}
	}
	if added != 6 || c.Len() != 6 {
		t.Fatalf("added %d, len %d, want 6", added, c.Len())
	}
	for _, id := range []int64{5, 10, 15, 20, 25, 30} {
		inc := colIncident(id)
		inc.Status = StatusFiled
		if ok, err := c.Update(inc); err != nil || !ok {
			t.Fatalf("update %d: %v %v", id, ok, err)
		}
	}
	for _, id := range []int64{1, 12, 31} {
		if ok, _ := c.Update(colIncident(id)); ok {
			t.Fatalf("update of absent id %d reported found", id)
		}
	}
	v := c.View()
	for i := 0; i < v.Len(); i++ {
		if v.Status(i) != StatusFiled {
			t.Fatalf("row %d (id %d) status %s", i, v.ID(i), v.Status(i))
		}
	}
}

func TestColumnsUpdate(t *testing.T) {
	c := NewColumns()
	for id := int64(1); id <= 3*chunkSize/2; id++ {
		if _, err := c.Append(colIncident(id)); err != nil {
			t.Fatal(err)
		}
	}
	inc := colIncident(chunkSize + 7)
	d := t0.Add(100 * time.Hour)
	cl := t0.Add(99 * time.Hour)
	inc.Status, inc.Deadline, inc.ClosedAt, inc.Reworks, inc.Extended = StatusClosed, &d, &cl, 3, true
	if ok, err := c.Update(inc); !ok || err != nil {
		t.Fatalf("update: %v %v", ok, err)
	}
	v := c.View()
	i := chunkSize + 6
	if v.ID(i) != inc.ID || v.Status(i) != StatusClosed || v.Deadline(i) != d.Unix() || v.ClosedAt(i) != cl.Unix() || v.Reworks(i) != 3 || !v.Extended(i) {
		t.Fatalf("row after update: %+v", v.Row(i))
	}
	if v.Status(i-1) != StatusReported {
		t.Fatal("neighbour row changed")
	}
}

// TestColumnsConcurrent runs readers against writers; `go test -race`
// checks that they share nothing unsynchronised.
func TestColumnsConcurrent(t *testing.T) {
	c := NewColumns()
	const n = 20000
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for id := int64(w + 1); id <= n; id += 2 {
				if _, err := c.Append(colIncident(id)); err != nil {
					t.Error(err)
					return
				}
				if id%50 == 0 {
					inc := colIncident(id / 2)
					inc.Status = StatusFiled
					if _, err := c.Update(inc); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(w)
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for r := 0; r < 2; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := c.View()
				for i := 0; i < v.Len(); i++ {
					row := v.Row(i)
					if row.ID == 0 || row.GridCode == "" || row.Category == "" {
						t.Errorf("row %d seen half-written: %+v", i, row)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	if c.Len() != n {
		t.Fatalf("len %d, want %d", c.Len(), n)
	}
}

func TestColumnsBytesPerIncident(t *testing.T) {
	c := NewColumns()
	const n = 4 * chunkSize
	rng := rand.New(rand.NewPCG(1, 2))
	for id := int64(1); id <= n; id++ {
		inc := colIncident(id)
		inc.GridCode = fmt.Sprintf("110101001001%03d", rng.IntN(1000))
		if _, err := c.Append(inc); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(c.Bytes()) / n
	t.Logf("%.1f bytes per incident", per)
	if per >= 100 {
		t.Fatalf("%.1f bytes per incident, budget is 100", per)
	}
}

func BenchmarkColumnsAppend(b *testing.B) {
	b.ReportAllocs()
	incs := make([]*Incident, 1<<16)
	for i := range incs {
		incs[i] = colIncident(int64(i + 1))
	}
	c := NewColumns()
	for i := 0; i < b.N; i++ {
		inc := *incs[i&(1<<16-1)]
		inc.ID = int64(i + 1)
		if _, err := c.Append(&inc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Bytes())/float64(max(c.Len(), 1)), "bytes/incident")
}

func BenchmarkViewScan(b *testing.B) {
	c := NewColumns()
	for id := int64(1); id <= 1<<20; id++ {
		if _, err := c.Append(colIncident(id)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := c.View()
		var open int
		for j := 0; j < v.Len(); j++ {
			if v.StatusCode(j) != 5 && v.ReportedAt(j) > 0 {
				open++
			}
		}
		if open == 0 {
			b.Fatal("no rows")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(1<<20), "ns/row")
}

// Each block's reported range is its rows' earliest and latest second.
func TestColumnsBlockReported(t *testing.T) {
	c := NewColumns()
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2*chunkSize + 100
	for id := int64(1); id <= int64(n); id++ {
		inc := colIncident(id)
		inc.ReportedAt = t0.Add(time.Duration(rng.IntN(1e8)) * time.Millisecond)
		if _, err := c.Append(inc); err != nil {
			t.Fatal(err)
		}
	}
	v := c.View()
	if v.Blocks() != 3 {
		t.Fatalf("%d blocks, want 3", v.Blocks())
	}
	rows := 0
	for b := 0; b < v.Blocks(); b++ {
		start, end := v.BlockRows(b)
		if start != rows || end <= start {
			t.Fatalf("block %d rows [%d, %d) after %d rows", b, start, end, rows)
		}
		rows = end
		lo, hi := v.ReportedAt(start), v.ReportedAt(start)
		for i := start; i < end; i++ {
			lo, hi = min(lo, v.ReportedAt(i)), max(hi, v.ReportedAt(i))
		}
		if first, last := v.BlockReported(b); first != lo || last != hi {
			t.Errorf("block %d reported [%d, %d], its rows [%d, %d]", b, first, last, lo, hi)
		}
	}
	if rows != n {
		t.Fatalf("blocks hold %d rows, want %d", rows, n)
	}
}
