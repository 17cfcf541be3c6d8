package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/incidents"
)

func serveCommand() *command {
	var addr, data, db, logLevel string
	var demo bool
	return &command{
		name:  "serve",
		usage: "[--addr 127.0.0.1:8080] [--data FILE.gpkg | --db postgres://…] [--demo]",
		summary: "Serve the HTTP API, tiles and dashboard. The embedded store is one GeoPackage file\n" +
			"(default " + defaultDataFile + "); --db uses PostgreSQL with PostGIS. --demo fills an empty store with the demo city.",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
			fs.StringVar(&data, "data", "", "GeoPackage file of the embedded store (default "+defaultDataFile+")")
			fs.StringVar(&db, "db", "", "PostgreSQL URL of the PostGIS store")
			fs.BoolVar(&demo, "demo", false, "fill an empty store with the demo city")
			fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) != 0 {
				return errUsage
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %v", err)
			}
			log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
			return serve(ctx, log, addr, data, db, demo)
		},
	}
}

func serve(ctx context.Context, log *slog.Logger, addr, data, db string, demo bool) error {
	st, err := openStore(ctx, data, db)
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := api.OpenBackend(ctx, st, log)
	if err != nil {
		return err
	}
	if demo {
		if err := loadDemo(ctx, log, b); err != nil {
			return err
		}
	}
	keys, err := st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list API keys: %w", err)
	}
	active := 0
	for _, k := range keys {
		if k.RevokedAt == nil {
			active++
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	open := active == 0
	if open {
		if !isLoopback(ln.Addr()) {
			ln.Close()
			return fmt.Errorf("refusing to serve on %s without API keys: create one with `gridd keys create --role admin`, or bind to 127.0.0.1", ln.Addr())
		}
		log.Warn("no API keys configured: open mode, every request is treated as admin; serving on loopback only", "addr", ln.Addr().String())
	}
	srv := api.New(api.Options{Backend: b, Logger: log, Open: open, Ready: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := st.ListGridSets(ctx)
		return err
	}})
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go b.Watch(watchCtx)

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("gridd listening", "addr", "http://"+ln.Addr().String(), "grid_sets", len(b.Registry.Sets()), "incidents", b.Columns.Len())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// demoFrom is when the demo city's grid set comes into force: before its
// first incident.
var demoFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// loadDemo fills an empty store with the demo city and its incidents,
// through b so that what it holds in memory follows.
func loadDemo(ctx context.Context, log *slog.Logger, b *api.Backend) error {
	sets, err := b.Store.ListGridSets(ctx)
	if err != nil {
		return err
	}
	if len(sets) > 0 {
		log.Info("store already holds grid sets; --demo adds nothing", "sets", len(sets))
		return nil
	}
	start := time.Now()
	city, recs, err := fixtures.Demo()
	if err != nil {
		return err
	}
	if _, err := b.ImportGrids(ctx, "demo city", city, true, demoFrom); err != nil {
		return fmt.Errorf("demo grids: %w", err)
	}
	items := make([]api.IngestItem, 0, 5000)
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		res, err := b.Ingest(ctx, items, "demo")
		if errors.Is(err, api.ErrBatchRejected) {
			for _, r := range res {
				if r.Error != "" {
					return fmt.Errorf("demo incident line %d: %s", r.Line, r.Error)
				}
			}
		}
		items = items[:0]
		return err
	}
	for i, r := range recs {
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		in, err := incidents.ParseJSON(raw)
		if err != nil {
			return fmt.Errorf("demo incident %d: %w", i+1, err)
		}
		items = append(items, api.IngestItem{Line: i + 1, Input: in})
		if len(items) == cap(items) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	log.Info("loaded the demo city", "grids", len(city), "incidents", len(recs), "ms", time.Since(start).Milliseconds())
	return nil
}
