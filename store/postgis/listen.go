package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gridd/gridd/store"
)

// channelPrefix begins the NOTIFY channel every gridd on a schema listens
// to; the schema completes it, so deployments sharing a database in
// different schemas do not hear each other.
const channelPrefix = "gridd_events:"

// listenerApp names the listening session in pg_stat_activity.
const listenerApp = "gridd-listener"

// maxPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxPayload = 7000

// payload is an event as NOTIFY carries it. Incident ids travel as ranges,
// since a batch's ids come mostly consecutive from one sequence.
type payload struct {
	Kind     string     `json:"k"`
	SetID    int64      `json:"s,omitempty"`
	Ranges   [][2]int64 `json:"r,omitempty"`
	Instance string     `json:"o"`
}

func idRanges(ids []int64) [][2]int64 {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	var out [][2]int64
	for _, id := range sorted {
		if n := len(out); n > 0 && (id == out[n-1][1]+1 || id == out[n-1][1]) {
			out[n-1][1] = id
			continue
		}
		out = append(out, [2]int64{id, id})
	}
	return out
}

// payloads encodes e into one or more NOTIFY payloads under the limit.
func (s *Store) payloads(e store.Event) ([]string, error) {
	p := payload{Kind: e.Kind, SetID: e.SetID, Instance: s.instance}
	ranges := idRanges(e.IDs)
	var out []string
	for {
		// Split the ranges into pieces whose JSON fits.
		n := len(ranges)
		for {
			p.Ranges = ranges[:n]
			b, err := json.Marshal(p)
			if err != nil {
				return nil, err
			}
			if len(b) <= maxPayload || n == 1 {
				out = append(out, string(b))
				break
			}
			n /= 2
		}
		ranges = ranges[n:]
		if len(ranges) == 0 {
			return out, nil
		}
	}
}

// notify queues e on tx; PostgreSQL delivers it to every listener when the
// transaction commits, and never if it rolls back.
func (s *Store) notify(ctx context.Context, tx pgx.Tx, e store.Event) error {
	ps, err := s.payloads(e)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	for _, p := range ps {
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, p); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

func (s *Store) decode(raw string) (store.Event, error) {
	var p payload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return store.Event{}, err
	}
	e := store.Event{Kind: p.Kind, SetID: p.SetID, Local: p.Instance == s.instance}
	for _, r := range p.Ranges {
		for id := r[0]; id <= r[1]; id++ {
			e.IDs = append(e.IDs, id)
		}
	}
	return e, nil
}

// listen keeps a dedicated connection LISTENing and forwards what arrives
// to the subscribers. ready gets the outcome of the first attempt; after a
// lost connection it reconnects with backoff and sends a resync event,
// since notifications sent meanwhile are gone.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, ready chan<- error) {
	defer s.listening.Done()
	cfg.RuntimeParams["application_name"] = listenerApp
	first := true
	backoff := 100 * time.Millisecond
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
				conn.Close(context.Background())
			}
		}
		if err != nil {
			if first {
				ready <- err
				return
			}
			if ctx.Err() != nil {
				return
			}
			slog.Warn("store: LISTEN connection lost, retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		if first {
			first = false
			ready <- nil
		} else {
			s.hub.Publish(store.Event{Kind: store.EventResync})
		}
		backoff = 100 * time.Millisecond
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			e, err := s.decode(n.Payload)
			if err != nil {
				slog.Warn("store: unreadable notification", "payload", n.Payload, "err", err)
				continue
			}
			s.hub.Publish(e)
		}
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
	}
}
