package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/gridd/gridd/geo"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/gridd/gridd/incidents"
)

func diffCommand() *command {
	var incFile, crs, since, format string
	var movedMax int
	return &command{
		name:  "diff",
		usage: "OLD.geojson NEW.geojson [--incidents FILE(.ndjson|.csv|.geojson)] [--crs wgs84|gcj02|bd09] [--since TIME] [--moved N] [--format text|json]",
		summary: "Print the impact of a redraw: grids added, removed and reshaped with their areas, the incidents that change grid\n" +
			"(from --incidents, each placed by the geocoder in both sets), workload balance and compactness.",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&incFile, "incidents", "", "incidents file (NDJSON, CSV or GeoJSON, as `gridd import incidents` reads)")
			fs.StringVar(&crs, "crs", "wgs84", "CRS of the grids files, and of incident rows that do not say")
			fs.StringVar(&since, "since", "", "count only incidents reported at or after this RFC 3339 time")
			fs.IntVar(&movedMax, "moved", 1000, "list at most this many incidents that change grid (negative: all)")
			fs.StringVar(&format, "format", "text", "output: text or json")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) != 2 {
				return errUsage
			}
			c, err := geo.ParseCRS(crs)
			if err != nil {
				return fmt.Errorf("--crs: %w", err)
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format: %q is not text or json", format)
			}
			var opt topo.DiffOptions
			if since != "" {
				if opt.Since, err = time.Parse(time.RFC3339, since); err != nil {
					return fmt.Errorf("--since: %q is not an RFC 3339 time", since)
				}
			}
			var sets [2][]*grids.Grid
			var locs [2]topo.LocateFunc
			for i, path := range args {
				if sets[i], err = readGridsStrict(path, c); err != nil {
					return err
				}
				// The geocoder's own index, so that points on shared edges
				// go where gridd would put them.
				if ix, err := grids.NewIndex(&grids.Set{Grids: sets[i], Status: grids.StatusPublished}, grids.IndexOptions{}); err == nil {
					locs[i] = ix.LocateCode
				}
			}
			opt.LocateOld, opt.LocateNew = locs[0], locs[1]
			var recs map[int64]diffIncident
			var pts []topo.IncidentPoint
			if incFile != "" {
				if recs, pts, err = readDiffIncidents(e, incFile, c); err != nil {
					return err
				}
			}
			rep := topo.Diff(sets[0], sets[1], pts, opt)
			moved := movedIncidents(rep, recs)
			return writeDiff(e.stdout, format, incFile, rep, moved, movedMax)
		},
	}
}

func readGridsStrict(path string, c geo.CRS) ([]*grids.Grid, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gs, err := grids.ReadGeoJSON(f, grids.ImportOptions{CRS: c})
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run `gridd validate %s` for a full report)", path, err, path)
	}
	return gs, nil
}

// diffIncident is an incident of the file, named by its line.
type diffIncident struct {
	Line       int64     `json:"line"`
	ExternalID string    `json:"external_id,omitempty"`
	Lon        float64   `json:"lon"`
	Lat        float64   `json:"lat"`
	ReportedAt time.Time `json:"reported_at"`
	From       string    `json:"from"`
	To         string    `json:"to"`
}

// readDiffIncidents reads the incidents file; a bad line is reported on
// stderr and left out, the rest still count.
func readDiffIncidents(e *env, path string, c geo.CRS) (map[int64]diffIncident, []topo.IncidentPoint, error) {
	format, err := incidents.FormatOf(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cat := incidents.Builtin()
	recs := map[int64]diffIncident{}
	var pts []topo.IncidentPoint
	bad := 0
	err = incidents.Parse(f, format, func(line int, in incidents.Input, perr error) error {
		var inc *incidents.Incident
		if perr == nil {
			if in.CRS == "" && c != geo.WGS84 {
				in.CRS = string(c)
			}
			inc, perr = in.Validate(cat)
		}
		if perr != nil {
			bad++
			if bad <= 100 {
				fmt.Fprintf(e.stderr, "%s: line %d: %v (left out)\n", path, line, perr)
			}
			return nil
		}
		id := int64(line)
		recs[id] = diffIncident{Line: id, ExternalID: inc.ExternalID, Lon: inc.Lon, Lat: inc.Lat, ReportedAt: inc.ReportedAt}
		pts = append(pts, topo.IncidentPoint{ID: id, Lon: inc.Lon, Lat: inc.Lat, At: inc.ReportedAt})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if bad > 0 {
		fmt.Fprintf(e.stderr, "%s: %d bad lines left out\n", path, bad)
	}
	return recs, pts, nil
}

// movedIncidents lists the incidents of the transfers, by line.
func movedIncidents(rep topo.DiffReport, recs map[int64]diffIncident) []diffIncident {
	var out []diffIncident
	for _, t := range rep.Transfers {
		for _, id := range t.IDs {
			r := recs[id]
			r.From, r.To = t.From, t.To
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func writeDiff(w io.Writer, format, incFile string, rep topo.DiffReport, moved []diffIncident, max int) error {
	if max >= 0 && len(moved) > max {
		moved = moved[:max]
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			topo.DiffReport
			MovedIncidents []diffIncident `json:"moved_incidents"`
		}{rep, moved})
	}
	if err := rep.WriteText(w); err != nil {
		return err
	}
	if incFile == "" || rep.Moved == 0 {
		return nil
	}
	fmt.Fprintf(w, "incidents that change grid (line of %s):\n", incFile)
	for _, m := range moved {
		ext := ""
		if m.ExternalID != "" {
			ext = " " + m.ExternalID
		}
		fmt.Fprintf(w, "  line %d%s  %.7f,%.7f  %s  %s → %s\n", m.Line, ext, m.Lon, m.Lat,
			m.ReportedAt.UTC().Format(time.RFC3339), gridOrNone(m.From), gridOrNone(m.To))
	}
	if len(moved) < rep.Moved {
		fmt.Fprintf(w, "  … and %d more (--moved -1 lists all)\n", rep.Moved-len(moved))
	}
	return nil
}

func gridOrNone(code string) string {
	if code == "" {
		return "(none)"
	}
	return code
}
