package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gridd/gridd/incidents"
)

// Locator gives the code of the grid a WGS84 point falls in under the grid
// set in force at time at, "" when none does.
type Locator func(lon, lat float64, at time.Time) string

// IngestOptions steer Ingest.
type IngestOptions struct {
	Format    incidents.Format // default NDJSON
	Catalogue *incidents.Catalogue
	// Locate geocodes each incident at its reported_at; nil leaves them
	// unassigned.
	Locate Locator
	// CRS is the coordinate system of inputs that name none (the --crs
	// flag); "" is WGS84.
	CRS string
	// By is who an incident that arrives without history is reported by,
	// in its first history entry (see incidents.Incident.StartHistory);
	// default "ingest".
	By string
	// BatchSize is the number of incidents per transaction; default 5000.
	BatchSize int
	// AllOrNothing refuses the whole input when any line is bad and then
	// stores nothing, as an HTTP batch must. Otherwise bad lines go to
	// OnInvalid and the good ones are stored batch by batch, as an import
	// of a large file wants (running it again is harmless where the lines
	// carry external ids).
	AllOrNothing bool
	OnInvalid    func(err error)
	// OnBatch sees each committed batch, its incidents with their ids, e.g.
	// to append them to the in-memory columns or to show progress.
	OnBatch func(incs []*incidents.Incident, res []InsertResult)
}

// IngestStats count what Ingest did.
type IngestStats struct {
	Items    int // incidents read, bad ones included
	Created  int
	Existing int // external id already stored: nothing changed
	Invalid  int
}

// InvalidInputError lists the bad lines of a refused all-or-nothing input.
type InvalidInputError struct {
	Errors []error // the first MaxReportedErrors of them
	Total  int
}

// MaxReportedErrors bounds the errors an InvalidInputError keeps.
const MaxReportedErrors = 100

func (e *InvalidInputError) Error() string {
	parts := make([]string, 0, 3)
	for i, err := range e.Errors {
		if i == 3 {
			break
		}
		parts = append(parts, err.Error())
	}
	more := ""
	if e.Total > len(parts) {
		more = fmt.Sprintf("; and %d more", e.Total-len(parts))
	}
	return fmt.Sprintf("%d invalid item(s), nothing stored: %s%s", e.Total, strings.Join(parts, "; "), more)
}

// CheckLine turns one line as incidents.Parse hands it over (its input, or
// the error that parsing it gave) into an incident: inputs that name no
// CRS are in crs, then the incident's checks run. An error names the line.
func CheckLine(line int, in incidents.Input, perr error, crs string, cat *incidents.Catalogue) (*incidents.Incident, error) {
	if perr != nil {
		return nil, perr // Parse's errors name their line already
	}
	if in.CRS == "" {
		in.CRS = crs
	}
	inc, err := in.Validate(cat)
	if err != nil {
		return nil, &incidents.LineError{Line: line, Err: err}
	}
	return inc, nil
}

// Ingest reads incidents from r, validates and geocodes each, and stores
// them in batches. Parsing runs alongside the database writes, so the two
// overlap on two cores.
func Ingest(ctx context.Context, s Store, r io.Reader, opt IngestOptions) (IngestStats, error) {
	if opt.Catalogue == nil {
		return IngestStats{}, errors.New("ingest: no catalogue")
	}
	if opt.Format == "" {
		opt.Format = incidents.FormatNDJSON
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 5000
	}
	if opt.By == "" {
		opt.By = "ingest"
	}
	var (
		stats   IngestStats
		invalid = &InvalidInputError{}
		batch   []*incidents.Incident
		all     []*incidents.Incident // AllOrNothing keeps everything for one transaction
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		created, existing int
		err               error
	}
	work := make(chan []*incidents.Incident, 1)
	done := make(chan result, 1)
	go func() {
		var res result
		for b := range work {
			if res.err != nil {
				continue // drain after a failure
			}
			ir, err := s.InsertIncidents(ctx, b)
			if err != nil {
				res.err = err
				cancel()
				continue
			}
			for _, x := range ir {
				if x.Created {
					res.created++
				} else {
					res.existing++
				}
			}
			if opt.OnBatch != nil {
				opt.OnBatch(b, ir)
			}
		}
		done <- res
	}()
	send := func(b []*incidents.Incident) error {
		select {
		case work <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	perr := incidents.Parse(r, opt.Format, func(line int, in incidents.Input, err error) error {
		stats.Items++
		inc, err := CheckLine(line, in, err, opt.CRS, opt.Catalogue)
		if err != nil {
			stats.Invalid++
			invalid.Total++
			if len(invalid.Errors) < MaxReportedErrors {
				invalid.Errors = append(invalid.Errors, err)
			}
			if !opt.AllOrNothing && opt.OnInvalid != nil {
				opt.OnInvalid(err)
			}
			return nil
		}
		if opt.Locate != nil {
			inc.GridCode = opt.Locate(inc.Lon, inc.Lat, inc.ReportedAt)
		}
		inc.StartHistory(opt.By)
		if opt.AllOrNothing {
			if invalid.Total == 0 {
				all = append(all, inc)
			}
			return nil
		}
		batch = append(batch, inc)
		if len(batch) >= opt.BatchSize {
			b := batch
			batch = make([]*incidents.Incident, 0, opt.BatchSize)
			return send(b)
		}
		return nil
	})
	if perr == nil {
		switch {
		case opt.AllOrNothing && invalid.Total > 0:
		case opt.AllOrNothing && len(all) > 0:
			perr = send(all)
		case len(batch) > 0:
			perr = send(batch)
		}
	}
	close(work)
	res := <-done
	stats.Created, stats.Existing = res.created, res.existing
	if res.err != nil {
		return stats, fmt.Errorf("ingest: %w", res.err)
	}
	if perr != nil {
		return stats, fmt.Errorf("ingest: %w", perr)
	}
	if opt.AllOrNothing && invalid.Total > 0 {
		return stats, invalid
	}
	return stats, nil
}
