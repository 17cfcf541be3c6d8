// Package store is gridd's persistence contract: grid sets and their
// versions, grids, incidents with their status history, and API keys. Two
// implementations keep it: store/gpkg (one GeoPackage file, the embedded
// default) and store/postgis (PostgreSQL with PostGIS, for production and
// replicas). store/storetest is the contract suite both pass.
package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
)

// Store is what gridd keeps on disk. Every method is safe for concurrent use.
type Store interface {
	// CreateGridSet saves set (name and grids) as a new draft and returns its
	// id. set.ID, Status and the effective times are ignored.
	CreateGridSet(ctx context.Context, set *grids.Set) (int64, error)
	// ListGridSets returns every set without its grids, newest first.
	ListGridSets(ctx context.Context) ([]*grids.Set, error)
	// GetGridSet returns a set with its grids in code order.
	GetGridSet(ctx context.Context, id int64) (*grids.Set, error)
	// ReplaceGrids swaps the grids of a draft; ErrImmutable for a published set.
	ReplaceGrids(ctx context.Context, id int64, gs []*grids.Grid) error
	// PublishGridSet puts draft id in force from `from`, ending the latest
	// published set there, in one transaction. A `from` not after the latest
	// set's effective_from is refused with ErrConflict.
	PublishGridSet(ctx context.Context, id int64, from time.Time) error

	// InsertIncidents stores a batch in one transaction: all or nothing.
	// IDs are assigned by the store and written back into the incidents.
	// An external id already stored (or repeated within the batch) is not
	// inserted again: its result carries the existing id, Created false.
	InsertIncidents(ctx context.Context, incs []*incidents.Incident) ([]InsertResult, error)
	// GetIncident returns one incident with its history; ErrNotFound if absent.
	GetIncident(ctx context.Context, id int64) (*incidents.Incident, error)
	// QueryIncidents returns a page of incidents (without history) in
	// (reported_at, id) order and the cursor of the next page, "" at the end.
	QueryIncidents(ctx context.Context, q IncidentQuery) ([]*incidents.Incident, string, error)
	// UpdateIncident reads id with its history, lets fn change it and writes
	// the workflow fields back with the history entries fn appended, all in
	// one transaction. Location, reported_at and external id cannot change.
	// An error from fn is returned as is and nothing is written.
	UpdateIncident(ctx context.Context, id int64, fn func(*incidents.Incident) error) (*incidents.Incident, error)
	// ScanIncidents streams every incident (without history) in id order,
	// for loading the in-memory columns at start-up.
	ScanIncidents(ctx context.Context, fn func(*incidents.Incident) error) error

	// CreateKey stores an API key; ErrConflict when the id or hash exists.
	CreateKey(ctx context.Context, k Key) error
	// KeyByHash finds an active key; ErrNotFound if unknown or revoked.
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	// ListKeys returns every key, revoked ones included, by creation time.
	ListKeys(ctx context.Context) ([]Key, error)
	// RevokeKey marks a key revoked; ErrNotFound if there is no such key.
	RevokeKey(ctx context.Context, id string) error

	// Subscribe delivers the changes committed through any gridd on the same
	// store (this one included, see Event.Local) until ctx ends, when the
	// channel is closed.
	Subscribe(ctx context.Context) <-chan Event
	// Close releases the store; subscriptions end.
	Close() error
}

// Errors the stores return, wrapped with context.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrImmutable = errors.New("published grid set is immutable")
)

// InsertResult tells what became of one incident of a batch.
type InsertResult struct {
	ID      int64
	Created bool // false: the external id was already stored
}

// IncidentQuery filters and pages incidents. Zero fields do not filter.
type IncidentQuery struct {
	BBox       *orb.Bound
	From, To   *time.Time // reported_at in [From, To)
	Category   string     // catalogue code
	GridPrefix string     // a grid code or the code of an ancestor
	Status     incidents.Status
	IDs        []int64 // only these ids (events carry them)
	Limit      int     // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor     string  // from the previous page
}

// Page sizes of QueryIncidents.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// PageLimit is the page size a query asks for, after defaults and caps.
func (q IncidentQuery) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// Cursor is a position in (reported_at, id) order.
type Cursor struct {
	ReportedAt time.Time
	ID         int64
}

// Encode makes the opaque string handed to clients.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.ReportedAt.UnixNano(), 10) + ":" + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor reads a cursor made by Encode.
func ParseCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	ts, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	ns, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	return Cursor{ReportedAt: time.Unix(0, ns).UTC(), ID: n}, nil
}

// Key is an API key. Only a hash of the secret is stored.
type Key struct {
	ID        string
	Name      string
	Hash      []byte
	Role      string
	Scope     string // a hierarchy code prefix; "" for the whole city
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Event kinds.
const (
	EventGridSetPublished = "gridset_published"
	EventIncidents        = "incidents"        // new incidents, IDs set
	EventIncidentUpdated  = "incident_updated" // workflow change, IDs set
	// EventResync says events may have been missed (a lost database
	// connection, a slow subscriber): reload what you hold from the store.
	EventResync = "resync"
)

// Event is a change committed to the store.
type Event struct {
	Kind  string
	SetID int64   // EventGridSetPublished
	IDs   []int64 // EventIncidents, EventIncidentUpdated
	// Local is true when the change was made through this Store value, so a
	// server that already applied it in memory can skip it.
	Local bool
}

// TimePrecision is the precision both stores keep times at: the GeoPackage
// DATETIME format has milliseconds.
const TimePrecision = time.Millisecond

// NormalizeTime is t in UTC truncated to TimePrecision, as stored.
func NormalizeTime(t time.Time) time.Time { return t.UTC().Truncate(TimePrecision) }

// NormalizeIncident brings the times of inc to what a store returns.
func NormalizeIncident(inc *incidents.Incident) {
	inc.ReportedAt = NormalizeTime(inc.ReportedAt)
	for _, p := range []**time.Time{&inc.Deadline, &inc.FiledAt, &inc.DispatchedAt, &inc.HandledAt, &inc.ClosedAt} {
		if *p != nil {
			t := NormalizeTime(**p)
			*p = &t
		}
	}
	for i := range inc.History {
		inc.History[i].At = NormalizeTime(inc.History[i].At)
	}
}

// CheckIncident refuses an incident no store should hold: the fields the
// incident parser guarantees are rechecked so that no caller can bypass it.
func CheckIncident(inc *incidents.Incident) error {
	switch {
	case inc.Category == "":
		return errors.New("category is missing")
	case !inc.Status.Valid():
		return fmt.Errorf("unknown status %q", inc.Status)
	case math.IsNaN(inc.Lon) || math.IsInf(inc.Lon, 0) || inc.Lon < -180 || inc.Lon > 180:
		return fmt.Errorf("lon %v out of range", inc.Lon)
	case math.IsNaN(inc.Lat) || math.IsInf(inc.Lat, 0) || inc.Lat < -90 || inc.Lat > 90:
		return fmt.Errorf("lat %v out of range", inc.Lat)
	case inc.ReportedAt.Year() < 1970 || inc.ReportedAt.Year() > 9999:
		return fmt.Errorf("reported_at %s out of range", inc.ReportedAt.Format(time.RFC3339))
	case inc.Reworks < 0:
		return fmt.Errorf("reworks %d is negative", inc.Reworks)
	}
	return nil
}

// CheckUpdate refuses an UpdateIncident callback's change to a field that
// identifies the case.
func CheckUpdate(before, after *incidents.Incident) error {
	switch {
	case after.ID != before.ID:
		return fmt.Errorf("update incident %d: id cannot change", before.ID)
	case after.ExternalID != before.ExternalID:
		return fmt.Errorf("update incident %d: external_id cannot change", before.ID)
	case !after.ReportedAt.Equal(before.ReportedAt):
		return fmt.Errorf("update incident %d: reported_at cannot change", before.ID)
	case after.Lon != before.Lon || after.Lat != before.Lat:
		return fmt.Errorf("update incident %d: location cannot change", before.ID)
	case len(after.History) < len(before.History):
		return fmt.Errorf("update incident %d: history entries cannot be removed", before.ID)
	}
	return nil
}
