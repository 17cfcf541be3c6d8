package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

func importCommand() *command {
	var data, db, crs, from, name string
	var publish bool
	return &command{
		name:  "import",
		usage: "grids FILE.geojson [--crs wgs84|gcj02|bd09] [--name NAME] [--publish --from TIME] | incidents FILE(.ndjson|.csv|.geojson) [--crs …]  [--data FILE.gpkg | --db URL]",
		summary: "Import a grid set (as a draft, or published from a time) or incidents into the store.\n" +
			"Either import is all or nothing: a file with any bad feature or line imports nothing, and every problem is listed.",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&data, "data", "", "GeoPackage file of the embedded store (default "+defaultDataFile+")")
			fs.StringVar(&db, "db", "", "PostgreSQL URL of the PostGIS store")
			fs.StringVar(&crs, "crs", "wgs84", "CRS of the file's coordinates (for incidents: of rows that do not say)")
			fs.StringVar(&name, "name", "", "grid set name (default: the file name)")
			fs.BoolVar(&publish, "publish", false, "publish the grid set (needs --from)")
			fs.StringVar(&from, "from", "", "with --publish: RFC 3339 time the set comes into force")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) != 2 {
				return errUsage
			}
			c, err := geo.ParseCRS(crs)
			if err != nil {
				return fmt.Errorf("--crs: %w", err)
			}
			switch args[0] {
			case "grids":
				var at time.Time
				if publish {
					if from == "" {
						return errors.New("--publish needs --from TIME")
					}
					if at, err = time.Parse(time.RFC3339, from); err != nil {
						return fmt.Errorf("--from: %q is not an RFC 3339 time", from)
					}
				} else if from != "" {
					return errors.New("--from goes with --publish")
				}
				if name == "" {
					name = filepath.Base(args[1])
				}
				return importGrids(ctx, e, data, db, args[1], c, name, publish, at)
			case "incidents":
				if publish || from != "" || name != "" {
					return errors.New("--publish, --from and --name are for grids")
				}
				return importIncidents(ctx, e, data, db, args[1], c)
			}
			return errUsage
		},
	}
}

// progressReader shows a byte progress bar on a terminal, nothing elsewhere.
func progressReader(e *env, f *os.File, what string) (io.Reader, func()) {
	ef, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(ef.Fd())) {
		return f, func() {}
	}
	st, err := f.Stat()
	if err != nil {
		return f, func() {}
	}
	bar := progressbar.DefaultBytes(st.Size(), what)
	r := progressbar.NewReader(f, bar)
	return &r, func() { bar.Finish() }
}

func importGrids(ctx context.Context, e *env, data, db, file string, c geo.CRS, name string, publish bool, from time.Time) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, done := progressReader(e, f, "reading grids")
	gs, err := grids.ReadGeoJSON(r, grids.ImportOptions{CRS: c})
	done()
	if err != nil {
		return fmt.Errorf("%s: %w (nothing imported)", file, err)
	}
	st, err := openStore(ctx, data, db)
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := api.OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	id, err := b.ImportGrids(ctx, name, gs, publish, from)
	if err != nil {
		return err
	}
	state := "draft"
	if publish {
		state = "published from " + from.Format(time.RFC3339)
	}
	fmt.Fprintf(e.stdout, "grid set %d: %d grids, %s\n", id, len(gs), state)
	return nil
}

const importBatch = 10000

func importIncidents(ctx context.Context, e *env, data, db, file string, c geo.CRS) error {
	format, err := incidents.FormatOf(file)
	if err != nil {
		return err
	}
	cat := incidents.Builtin()
	crsName := "" // for lines that name no CRS; "" is WGS84
	if c != geo.WGS84 {
		crsName = string(c)
	}
	// Pass 1 checks every line, so that a bad file imports nothing.
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, done := progressReader(e, f, "checking")
	bad, lines := 0, 0
	err = incidents.Parse(r, format, func(line int, in incidents.Input, perr error) error {
		lines++
		if _, err := store.CheckLine(line, in, perr, crsName, cat); err != nil {
			bad++
			if bad <= 100 {
				fmt.Fprintf(e.stderr, "%s: %v\n", file, err)
			}
		}
		return nil
	})
	done()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if bad > 0 {
		return fmt.Errorf("%s: %d of %d lines are bad; nothing imported", file, bad, lines)
	}

	st, err := openStore(ctx, data, db)
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := loadRegistry(ctx, st)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r, done = progressReader(e, f, "importing")
	defer done()
	// Pass 2 goes through the store's ingest pipeline: lines are parsed,
	// checked and geocoded on one goroutine while the batch before is
	// stored on another.
	start := time.Now()
	var changed error // a line that pass 1 found good and pass 2 not
	res, err := store.Ingest(ctx, st, r, store.IngestOptions{
		Format: format, Catalogue: cat, CRS: crsName, BatchSize: importBatch,
		Locate: reg.LocateCode, By: incidents.ImportedBy,
		OnInvalid: func(err error) {
			if changed == nil {
				changed = fmt.Errorf("%w (did the file change while it was imported?)", err)
			}
		},
	})
	if err == nil {
		err = changed
	}
	if err != nil {
		return fmt.Errorf("%s: %w (batches before this one are stored)", file, err)
	}
	fmt.Fprintf(e.stdout, "%d incidents imported, %d already present (by external id), %.0f/s\n",
		res.Created, res.Existing, float64(res.Created+res.Existing)/time.Since(start).Seconds())
	return nil
}
