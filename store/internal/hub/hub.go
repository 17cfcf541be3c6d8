// Package hub fans store events out to subscribers without ever blocking
// the writer that publishes them.
package hub

import (
	"context"
	"sync"

	"github.com/gridd/gridd/store"
)

// maxQueue bounds what a slow subscriber may fall behind; past it the queue
// is replaced by one resync event, which tells it to reload.
const maxQueue = 4096

// Hub is a set of subscribers. The zero value is not usable: see New.
type Hub struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
	done chan struct{}
	once sync.Once
}

type sub struct {
	mu    sync.Mutex
	queue []store.Event
	wake  chan struct{}
	out   chan store.Event
}

// New returns an open hub.
func New() *Hub {
	return &Hub{subs: map[*sub]struct{}{}, done: make(chan struct{})}
}

// Subscribe returns a channel of the events published from now on; it is
// closed when ctx ends or the hub closes.
func (h *Hub) Subscribe(ctx context.Context) <-chan store.Event {
	s := &sub{wake: make(chan struct{}, 1), out: make(chan store.Event, 64)}
	h.mu.Lock()
	select {
	case <-h.done:
		h.mu.Unlock()
		close(s.out)
		return s.out
	default:
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go h.run(ctx, s)
	return s.out
}

func (h *Hub) run(ctx context.Context, s *sub) {
	defer func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		close(s.out)
	}()
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, e := range batch {
			select {
			case s.out <- e:
			case <-ctx.Done():
				return
			case <-h.done:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

// Publish queues e for every subscriber. The IDs slice is shared: receivers
// must not modify it.
func (h *Hub) Publish(e store.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		if len(s.queue) >= maxQueue {
			s.queue = append(s.queue[:0], store.Event{Kind: store.EventResync})
		} else {
			s.queue = append(s.queue, e)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Close ends every subscription.
func (h *Hub) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		close(h.done)
		h.mu.Unlock()
	})
}
