package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as gridd: with GRIDD_TEST_CHILD set it runs the
// command line in it (fields separated by \x1f) and exits, so that tests
// can start, kill and restart real gridd processes.
const childEnv = "GRIDD_TEST_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		// As main does: SIGTERM and interrupts shut down gracefully.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, strings.Split(args, "\x1f"))
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// child is a running gridd serve.
type child struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan error
	logs *strings.Builder
}

// startServe starts `gridd serve --addr 127.0.0.1:0 ARGS…` and waits for
// it to listen.
func startServe(t *testing.T, args ...string) *child {
	t.Helper()
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(all, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1), logs: &strings.Builder{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, `"msg":"http"`) {
				c.logs.WriteString(line + "\n")
			}
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gridd listening" {
				addr <- rec.Addr
			}
		}
		c.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		c.base = a
	case err := <-c.done:
		t.Fatalf("gridd exited before listening: %v\n%s", err, c.logs.String())
	case <-time.After(90 * time.Second):
		c.kill()
		t.Fatalf("gridd did not start listening:\n%s", c.logs.String())
	}
	t.Cleanup(c.kill)
	return c
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Kill()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
	}
}

func (c *child) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// externalIDs lists every stored incident's external id through the API.
func (c *child) externalIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	path := "/api/v1/incidents?limit=10000"
	for {
		var page struct {
			Features []struct {
				Properties struct {
					ExternalID string `json:"external_id"`
				} `json:"properties"`
			} `json:"features"`
			NextCursor string `json:"next_cursor"`
		}
		c.get(t, path, &page)
		for _, f := range page.Features {
			ids[f.Properties.ExternalID] = true
		}
		if page.NextCursor == "" {
			return ids
		}
		path = "/api/v1/incidents?limit=10000&cursor=" + page.NextCursor
	}
}

func ndjsonBatch(prefix string, n int, lon, lat float64, at time.Time) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"external_id":"%s-%d","lon":%.6f,"lat":%.6f,"reported_at":"%s","category":"E0102","source":"patrol"}`+"\n",
			prefix, i, lon+float64(i%50)*1e-4, lat+float64(i/50)*1e-4, at.Format(time.RFC3339))
	}
	return b.String()
}
