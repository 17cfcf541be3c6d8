// Package incidents holds the incident model, the category catalogue, the
// status workflow and the in-memory columns that analytics read.
package incidents

import "time"

// Status is a step of the case workflow (after the national seven steps).
type Status string

const (
	StatusReported   Status = "reported"   // 上报
	StatusFiled      Status = "filed"      // 立案
	StatusDispatched Status = "dispatched" // 派遣
	StatusHandled    Status = "handled"    // 处置
	StatusClosed     Status = "closed"     // 结案
	StatusRejected   Status = "rejected"   // 不予立案
)

// Source is the channel an incident came in by.
type Source string

const (
	SourcePatrol  Source = "patrol"
	SourceHotline Source = "hotline"
	SourceApp     Source = "app"
	SourceVideo   Source = "video"
	SourceOpen311 Source = "open311"
)

// Incident is one reported case. Lon and Lat are WGS84.
type Incident struct {
	ID          int64
	ExternalID  string
	Category    string // catalogue code
	Source      Source
	Description string
	ReportedAt  time.Time
	Lon, Lat    float64
	GridCode    string // empty when unassigned
	Status      Status
	Deadline    *time.Time
	// Times of the workflow steps, set as the case moves.
	FiledAt      *time.Time
	DispatchedAt *time.Time
	HandledAt    *time.Time
	ClosedAt     *time.Time
	Reworks      int // times sent back from handled to dispatched (返工)
	Extended     bool
	History      []Transition
}

// StartHistory gives an incident that arrives without history its first
// entry, FirstEntry(by).
func (inc *Incident) StartHistory(by string) {
	if len(inc.History) == 0 {
		inc.History = []Transition{inc.FirstEntry(by)}
	}
}

// FirstEntry is the history entry of an incident reported by by: at its
// reported_at, into the status it arrived with, noting its source.
func (inc *Incident) FirstEntry(by string) Transition {
	return Transition{At: inc.ReportedAt, By: by, To: inc.Status, Note: reportedVia(inc.Source)}
}

// reportedVia is the note of a first history entry, "reported via " and
// the source; the known sources' notes are made once, not afresh for every
// incident.
func reportedVia(s Source) string {
	if note, ok := reportedViaNotes[s]; ok {
		return note
	}
	return "reported via " + string(s)
}

var reportedViaNotes = func() map[Source]string {
	m := map[Source]string{}
	for _, s := range Sources() {
		m[s] = "reported via " + string(s)
	}
	return m
}()

// Transition is one entry of an incident's status history.
type Transition struct {
	At   time.Time
	By   string
	From Status
	To   Status
	Note string
}
