package gpkg

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store/storetest"
)

// The child half of TestAcknowledgedWritesSurviveKill: it writes batches
// for ever and prints "ack <first id> <last id>" after each one commits.
const childEnv = "GRIDD_GPKG_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(killChild(path))
	}
	os.Exit(m.Run())
}

func killChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		size := 1 // single writes, as an HTTP POST makes them
		if i%3 == 2 {
			size = 500 // and batches, which take the bulk R-tree path
		}
		batch := storetest.Incidents(size, i*1000)
		for k, inc := range batch {
			inc.ExternalID = fmt.Sprintf("kill-%d-%d", i, k)
		}
		res, err := s.InsertIncidents(ctx, batch)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("ack %d %d\n", res[0].ID, res[len(res)-1].ID)
	}
}

// TestAcknowledgedWritesSurviveKill kills a writing process with SIGKILL
// and checks that every write it acknowledged is in the file, the R-tree
// included.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kill.gpkg")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]bool{}
	sc := bufio.NewScanner(stdout)
	deadline := time.After(60 * time.Second)
	for len(acked) < 2000 {
		lineCh := make(chan bool, 1)
		go func() { lineCh <- sc.Scan() }()
		select {
		case ok := <-lineCh:
			if !ok {
				t.Fatalf("child ended early: %v\n%s", sc.Err(), stderr.String())
			}
			var first, last int64
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &first, &last); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			for id := first; id <= last; id++ {
				acked[id] = true
			}
		case <-deadline:
			t.Fatalf("child acknowledged only %d incidents in 60s", len(acked))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	stored := map[int64]bool{}
	if err := s.ScanIncidents(context.Background(), func(inc *incidents.Incident) error {
		stored[inc.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("acknowledged incident %d lost (%d acknowledged, %d stored)", id, len(acked), len(stored))
		}
	}
	var check string
	if err := s.w.QueryRow("SELECT rtreecheck('rtree_incidents_geom')").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("rtreecheck after kill: %s %v", check, err)
	}
	if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill: %s %v", check, err)
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(stored))
}
