package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
)

func geocodeCommand() *command {
	var gridsFile, data, db, crs, at string
	var snapM float64
	return &command{
		name:    "geocode",
		usage:   "(--grids FILE.geojson | --data FILE.gpkg | --db URL) [--crs wgs84|gcj02|bd09] [--at TIME] [--snap-m M] < points.csv",
		summary: "Geocode CSV rows id,lon,lat from stdin to CSV id,grid_code,status on stdout, in input order.\nStatus is inside, snapped (within --snap-m of a grid), unassigned or invalid (reported on stderr with its line).",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&gridsFile, "grids", "", "grids GeoJSON file (all levels)")
			fs.StringVar(&data, "data", "", "embedded GeoPackage store")
			fs.StringVar(&db, "db", "", "PostgreSQL URL of the PostGIS store")
			fs.StringVar(&crs, "crs", "wgs84", "CRS of the input points: wgs84, gcj02 or bd09")
			fs.StringVar(&at, "at", "", "use the grid set in force at this RFC 3339 time (default now)")
			fs.Float64Var(&snapM, "snap-m", 0, "snap points outside every grid to the nearest grid within this many metres")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) != 0 {
				return errUsage
			}
			c, err := geo.ParseCRS(crs)
			if err != nil {
				return err
			}
			if snapM < 0 {
				return errors.New("--snap-m must not be negative")
			}
			when := time.Now()
			if at != "" {
				if when, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--at: %q is not an RFC 3339 time", at)
				}
			}
			ix, err := loadIndex(ctx, gridsFile, data, db, when)
			if err != nil {
				return err
			}
			st, err := grids.GeocodeCSV(e.stdin, e.stdout, e.stderr, ix, grids.CSVOptions{CRS: c, SnapM: snapM})
			if err != nil {
				return err
			}
			if st.Invalid > 0 {
				fmt.Fprintf(e.stderr, "gridd geocode: %d rows, %d invalid\n", st.Rows, st.Invalid)
			}
			return nil
		},
	}
}

// loadIndex builds the index in force at a time from a file or a store.
func loadIndex(ctx context.Context, gridsFile, data, db string, at time.Time) (*grids.Index, error) {
	n := 0
	for _, s := range []string{gridsFile, data, db} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("give exactly one of --grids, --data or --db")
	}
	if gridsFile != "" {
		f, err := os.Open(gridsFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		gs, err := grids.ReadGeoJSON(f, grids.ImportOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gridsFile, err)
		}
		return grids.NewIndex(&grids.Set{Grids: gs, Status: grids.StatusPublished}, grids.IndexOptions{})
	}
	reg, closeStore, err := openRegistry(ctx, data, db)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return reg.At(at)
}
