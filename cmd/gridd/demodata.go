package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/gridd/gridd/fixtures"
)

func demoDataCommand() *command {
	city := fixtures.DefaultCityOptions()
	inc := fixtures.DefaultIncidentOptions()
	var out string
	var seed uint64
	return &command{
		name:  "demo-data",
		usage: "--out DIR [--grids N] [--incidents M] [--days D] [--seed S]",
		summary: "Write a deterministic synthetic city: DIR/grids.geojson (all four levels, exact shared edges)\n" +
			"and DIR/incidents.ndjson (clustered, with planted hotspots, one emerging). Same seed, same bytes.",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "", "output directory (created if missing)")
			fs.IntVar(&city.Grids, "grids", city.Grids, "number of leaf grids")
			fs.IntVar(&inc.Incidents, "incidents", inc.Incidents, "number of incidents")
			fs.IntVar(&inc.Days, "days", inc.Days, "days of incidents, ending "+inc.End.Format("2006-01-02"))
			fs.Uint64Var(&seed, "seed", 1, "random seed")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if out == "" || len(args) != 0 {
				return errUsage
			}
			if city.Grids < 1 || city.Grids > fixtures.MaxGrids {
				return fmt.Errorf("--grids must be from 1 to %d", fixtures.MaxGrids)
			}
			if inc.Incidents < 0 || inc.Days < 1 {
				return fmt.Errorf("--incidents must be >= 0 and --days >= 1")
			}
			city.Seed, inc.Seed = seed, seed
			if err := fixtures.WriteDemo(out, city, inc); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "wrote %s/%s (%d grids) and %s/%s (%d incidents)\n", out, fixtures.GridsFile, city.Grids, out, fixtures.IncidentsFile, inc.Incidents)
			return nil
		},
	}
}
