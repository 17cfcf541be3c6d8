// Package pgtest gives tests a fresh PostgreSQL database with PostGIS.
//
// The server is GRIDD_TEST_DATABASE_URL when set, else the local one on
// 127.0.0.1:5432 (trust auth, user postgres) that `make test` starts. There
// is no skip: a suite that cannot reach PostGIS fails, so that a green run
// always includes the database half.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server used when GRIDD_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the admin connection URL of the test server.
func ServerURL() string {
	if u := os.Getenv("GRIDD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDB creates an empty database with the postgis extension and returns
// its URL; the database is dropped when the test ends.
func NewDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := ServerURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s (run `make test`, which starts it, or set GRIDD_TEST_DATABASE_URL): %v", redact(admin), err)
	}
	defer conn.Close(ctx)

	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "gridd_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})

	dc, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", name, err)
	}
	defer dc.Close(ctx)
	if _, err := dc.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		t.Fatalf("pgtest: PostGIS is not available on the test server (make test installs postgresql-15-postgis-3): %v", err)
	}
	return dbURL
}

func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("pgtest: parse %q: %w", redact(raw), err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
