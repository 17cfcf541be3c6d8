package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A gridd on the embedded store is killed with SIGKILL in the middle of an
// NDJSON ingest, twenty times over the same file; after each restart every
// batch the server acknowledged (a 2xx answer) is there.
func TestAcknowledgedIngestSurvivesKill(t *testing.T) {
	data := filepath.Join(t.TempDir(), "kill.gpkg")
	acked := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	const runs = 20
	c := startServe(t, "--data", data)
	for run := 0; run < runs; run++ {
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					prefix := fmt.Sprintf("r%d-w%d-b%d", run, w, i)
					n := 1 + (i%4)*60 // single objects and batches
					body := ndjsonBatch(prefix, n, 116.40, 39.90, time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC))
					resp, err := http.Post(c.base+"/api/v1/incidents", "application/x-ndjson", strings.NewReader(body))
					if err != nil {
						return // the server is gone
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						mu.Lock()
						for k := 0; k < n; k++ {
							acked[fmt.Sprintf("%s-%d", prefix, k)] = true
						}
						mu.Unlock()
					} else if resp.StatusCode != http.StatusServiceUnavailable {
						t.Errorf("POST answered %d", resp.StatusCode)
						return
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		c.kill()
		close(stop)
		wg.Wait()

		c = startServe(t, "--data", data)
		stored := c.externalIDs(t)
		missing := 0
		for id := range acked {
			if !stored[id] {
				missing++
				if missing <= 5 {
					t.Errorf("run %d: acknowledged incident %s lost", run, id)
				}
			}
		}
		if missing > 0 {
			t.Fatalf("run %d: %d of %d acknowledged incidents lost", run, missing, len(acked))
		}
		t.Logf("run %d: %d acknowledged, all present (%d stored)", run+1, len(acked), len(stored))
	}
	if len(acked) < runs*10 {
		t.Fatalf("only %d incidents were acknowledged in %d runs: the ingest did not really run", len(acked), runs)
	}
}
