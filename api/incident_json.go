package api

import (
	"time"

	"github.com/gridd/gridd/incidents"
)

// IncidentFeature is an incident as GeoJSON, the shape of every incident
// the API returns.
type IncidentFeature struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
	// Geometry is null in the viewer's view, which withholds locations.
	Geometry   *PointGeometry     `json:"geometry"`
	Properties IncidentProperties `json:"properties"`
}

// PointGeometry is a GeoJSON Point.
type PointGeometry struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

// IncidentProperties are an incident's fields. Times are RFC 3339 in UTC.
type IncidentProperties struct {
	ID           int64      `json:"id"`
	ExternalID   string     `json:"external_id,omitempty"`
	Category     string     `json:"category"`
	CategoryName string     `json:"category_name,omitempty"`
	Source       string     `json:"source,omitempty"`
	Description  string     `json:"description,omitempty"`
	ReportedAt   time.Time  `json:"reported_at"`
	GridCode     string     `json:"grid_code"`
	Status       string     `json:"status"`
	Next         []string   `json:"next_statuses"`
	Deadline     *time.Time `json:"deadline,omitempty"`
	FiledAt      *time.Time `json:"filed_at,omitempty"`
	DispatchedAt *time.Time `json:"dispatched_at,omitempty"`
	HandledAt    *time.Time `json:"handled_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	Reworks      int        `json:"reworks"`
	Extended     bool       `json:"extended"`
	// History is given for single incidents, not in lists.
	History []TransitionJSON `json:"history,omitempty"`
}

// TransitionJSON is one entry of an incident's history.
type TransitionJSON struct {
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
	From string    `json:"from,omitempty"`
	To   string    `json:"to"`
	Note string    `json:"note,omitempty"`
}

// incidentFeature renders inc for a. Viewers get neither the location nor
// the free text (descriptions name people and addresses) nor the history.
func incidentFeature(inc *incidents.Incident, cat *incidents.Catalogue, a Access, withHistory bool) IncidentFeature {
	full := a.Can(RoleReporter)
	p := IncidentProperties{
		ID: inc.ID, Category: inc.Category, Source: string(inc.Source),
		ReportedAt: inc.ReportedAt.UTC(), GridCode: inc.GridCode, Status: string(inc.Status),
		Next:     []string{},
		Deadline: utcPtr(inc.Deadline), FiledAt: utcPtr(inc.FiledAt), DispatchedAt: utcPtr(inc.DispatchedAt),
		HandledAt: utcPtr(inc.HandledAt), ClosedAt: utcPtr(inc.ClosedAt),
		Reworks: inc.Reworks, Extended: inc.Extended,
	}
	if c, ok := cat.Lookup(inc.Category); ok {
		p.CategoryName = c.Name()
	}
	for _, n := range inc.Status.Next() {
		p.Next = append(p.Next, string(n))
	}
	f := IncidentFeature{Type: "Feature", ID: inc.ID, Properties: p}
	if !full {
		return f
	}
	f.Properties.ExternalID = inc.ExternalID
	f.Properties.Description = inc.Description
	f.Geometry = &PointGeometry{Type: "Point", Coordinates: [2]float64{inc.Lon, inc.Lat}}
	if withHistory {
		f.Properties.History = make([]TransitionJSON, len(inc.History))
		for i, h := range inc.History {
			f.Properties.History[i] = TransitionJSON{At: h.At.UTC(), By: h.By, From: string(h.From), To: string(h.To), Note: h.Note}
		}
	}
	return f
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Link is a hypermedia link (OGC API and list pages).
type Link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// IncidentCollection is a page of incidents.
type IncidentCollection struct {
	Type           string            `json:"type"`
	Features       []IncidentFeature `json:"features"`
	NumberReturned int               `json:"numberReturned"`
	NextCursor     string            `json:"next_cursor,omitempty"`
	Links          []Link            `json:"links"`
}
