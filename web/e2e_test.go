package web

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/pgtest"
)

// TestDashboardInBrowser builds gridd, serves the demo city from each
// store and runs web/e2e/dashboard.test.mjs in headless chromium against
// it. Screenshots land in $GRIDD_TEST_OUT/web (default testout/web).
// It never skips: `make test` installs node, the npm packages and chromium.
func TestDashboardInBrowser(t *testing.T) {
	node, chromium := browserTools(t)
	bin := buildGridd(t)
	out := testOutDir(t)

	t.Run("gpkg", func(t *testing.T) {
		base := startGridd(t, bin, "--data", filepath.Join(t.TempDir(), "city.gpkg"))
		runBrowserTest(t, node, chromium, base, filepath.Join(out, "gpkg"))
	})
	t.Run("postgis", func(t *testing.T) {
		base := startGridd(t, bin, "--db", pgtest.NewDB(t))
		runBrowserTest(t, node, chromium, base, filepath.Join(out, "postgis"), "--quick")
	})
}

func browserTools(t *testing.T) (node, chromium string) {
	t.Helper()
	const hint = "`make test` installs them (scripts/test-deps.sh: apt-get install nodejs npm chromium; npm ci in web/e2e)"
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is missing: %s", hint)
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is missing at %s: %s", chromium, hint)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("web/e2e/node_modules/playwright-core is missing: %s", hint)
	}
	return node, chromium
}

func buildGridd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridd")
	gobin, err := exec.LookPath("go")
	if err != nil {
		// go test runs without go on PATH in some setups; GOROOT is set then.
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "./cmd/gridd")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gridd: %v\n%s", err, out)
	}
	return bin
}

func testOutDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GRIDD_TEST_OUT")
	if dir == "" {
		dir = filepath.Join("..", "testout")
	}
	dir, err := filepath.Abs(filepath.Join(dir, "web"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startGridd runs `gridd serve --demo` on a free loopback port and waits
// for /readyz; the server is stopped when the test ends.
func startGridd(t *testing.T, bin string, store ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"serve", "--demo", "--addr", addr, "--log-level", "warn"}, store...)
	cmd := exec.Command(bin, args...)
	var logs lockedBuffer
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gridd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("gridd log:\n%s", tail(logs.String(), 4000))
		}
	})
	base := "http://" + addr + "/"
	deadline := time.Now().Add(3 * time.Minute)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-exited:
			t.Fatalf("gridd %s exited before it was ready: %v\n%s", strings.Join(args, " "), err, tail(logs.String(), 4000))
		default:
		}
		if res, err := client.Get(base + "readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gridd not ready on %s after 3 minutes\n%s", addr, tail(logs.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func runBrowserTest(t *testing.T, node, chromium, base, out string, flags ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("e2e", "dashboard.test.mjs"), base, out}, flags...)...)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	output, err := cmd.CombinedOutput()
	t.Logf("browser test against %s:\n%s", base, output)
	if err != nil {
		t.Fatalf("browser test failed (%v); screenshots in %s", err, out)
	}
	if !strings.Contains(string(output), "all checks passed") {
		t.Fatalf("browser test did not report its result; screenshots in %s", out)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
