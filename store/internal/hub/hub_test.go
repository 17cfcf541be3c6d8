package hub

import (
	"context"
	"testing"
	"time"

	"github.com/gridd/gridd/store"
)

func recv(t *testing.T, ch <-chan store.Event) (store.Event, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return store.Event{}, false
}

func TestFanOut(t *testing.T) {
	h := New()
	defer h.Close()
	ctx := context.Background()
	a, b := h.Subscribe(ctx), h.Subscribe(ctx)
	for i := int64(1); i <= 3; i++ {
		h.Publish(store.Event{Kind: store.EventGridSetPublished, SetID: i})
	}
	for _, ch := range []<-chan store.Event{a, b} {
		for i := int64(1); i <= 3; i++ {
			if e, ok := recv(t, ch); !ok || e.SetID != i {
				t.Fatalf("got %+v (open %v), want set %d in order", e, ok, i)
			}
		}
	}
}

func TestSlowSubscriberGetsResync(t *testing.T) {
	h := New()
	defer h.Close()
	ch := h.Subscribe(context.Background())
	// Far more than the channel and queue hold, published without reading.
	for i := 0; i < 3*maxQueue; i++ {
		h.Publish(store.Event{Kind: store.EventIncidents, IDs: []int64{int64(i)}})
	}
	sawResync := false
	for !sawResync {
		e, ok := recv(t, ch)
		if !ok {
			t.Fatal("channel closed")
		}
		sawResync = e.Kind == store.EventResync
	}
}

func TestEndings(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *Hub, cancel context.CancelFunc)
	}{
		{name: "context cancelled", end: func(_ *Hub, cancel context.CancelFunc) { cancel() }},
		{name: "hub closed", end: func(h *Hub, _ context.CancelFunc) { h.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New()
			defer h.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch := h.Subscribe(ctx)
			tt.end(h, cancel)
			for {
				if _, ok := recv(t, ch); !ok {
					break
				}
			}
			h.Publish(store.Event{Kind: store.EventResync}) // must not block or panic
		})
	}
	h := New()
	h.Close()
	if _, ok := recv(t, h.Subscribe(context.Background())); ok {
		t.Fatal("subscription to a closed hub delivered an event")
	}
}
