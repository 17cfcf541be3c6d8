package api

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
)

// pageRows against a sort of every row, over several blocks of the
// columns: reports in time order with stragglers (blocks overlap a little,
// the scan stops early) and in random order (every block overlaps).
func TestPageRowsOverBlocks(t *testing.T) {
	const n = 150_000 // three blocks
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, order := range []string{"feed", "random"} {
		t.Run(order, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			cols := incidents.NewColumns()
			for id := int64(1); id <= n; id++ {
				ms := id * 700 // a report every 0.7 s
				switch {
				case order == "random":
					ms = rng.Int64N(n * 700)
				case rng.IntN(50) == 0:
					ms -= rng.Int64N(3 * 3600 * 1000) // up to three hours late
				case rng.IntN(10) == 0:
					ms = (id - 1) * 700 // a tie with the row before
				}
				inc := &incidents.Incident{ID: id, Category: []string{"E0102", "C0101"}[rng.IntN(2)],
					ReportedAt: t0.Add(time.Duration(ms) * time.Millisecond), Lon: 116.4, Lat: 39.9,
					GridCode: "110101001001001", Status: incidents.StatusReported}
				if _, err := cols.Append(inc); err != nil {
					t.Fatal(err)
				}
			}
			v := cols.View()
			if v.Blocks() != 3 {
				t.Fatalf("%d blocks, want 3", v.Blocks())
			}
			all := make([]int, v.Len())
			for i := range all {
				all[i] = i
			}
			key := func(i int) listKey { return listKey{v.ReportedAtMilli(i), v.ID(i)} }
			slices.SortFunc(all, func(a, b int) int {
				ka, kb := key(a), key(b)
				return cmp.Or(cmp.Compare(ka.ms, kb.ms), cmp.Compare(ka.id, kb.id))
			})
			endMs := t0.UnixMilli() + n*700
			for k := 0; k < 40; k++ {
				p := listPage{limit: []int{1, 10, 100, 5000}[rng.IntN(4)]}
				f := newRowFilter()
				if rng.IntN(2) == 0 {
					f.from = t0.UnixMilli() + rng.Int64N(n*700)
				}
				if rng.IntN(3) == 0 {
					lo := max(f.from, t0.UnixMilli())
					f.to = lo + rng.Int64N(endMs-lo)
				}
				if rng.IntN(3) == 0 {
					f.category = "C0101"
				}
				if rng.IntN(2) == 0 {
					at := all[rng.IntN(len(all))]
					p.after = &listKey{v.ReportedAtMilli(at), v.ID(at)}
				}
				var want []int
				for _, i := range all {
					ki := key(i)
					if ki.ms < f.from || ki.ms >= f.to || (p.after != nil && !p.after.less(ki)) {
						continue
					}
					if f.category != "" && v.Categories()[v.Category(i)] != f.category {
						continue
					}
					want = append(want, i)
				}
				wantMore := len(want) > p.limit
				want = want[:min(len(want), p.limit)]
				got, more, err := pageRows(context.Background(), v, f, p)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("page %d (limit %d, from %d, to %d, after %v, category %q)", k, p.limit, f.from, f.to, p.after, f.category)
				if !slices.Equal(got, want) || more != wantMore {
					t.Fatalf("%s: %d rows (more %v), want %d (more %v)", name, len(got), more, len(want), wantMore)
				}
			}
		})
	}
}
