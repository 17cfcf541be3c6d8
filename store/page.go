package store

import "github.com/gridd/gridd/incidents"

// CollectPage reads a query's rows, fetched with LIMIT limit+1 in
// (reported_at, id) order, into one page and the cursor of the next page
// ("" at the end). next, scan and rowsErr are the driver's row methods.
func CollectPage(next func() bool, scan func() (*incidents.Incident, error), rowsErr func() error, limit int) ([]*incidents.Incident, string, error) {
	var out []*incidents.Incident
	for next() {
		inc, err := scan()
		if err != nil {
			return nil, "", err
		}
		out = append(out, inc)
	}
	if err := rowsErr(); err != nil {
		return nil, "", err
	}
	cursor := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		cursor = Cursor{ReportedAt: last.ReportedAt, ID: last.ID}.Encode()
	}
	return out, cursor, nil
}
