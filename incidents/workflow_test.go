package incidents

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// caseIn builds an incident already in status st, with the step times a
// real case in that status would have.
func caseIn(st Status) *Incident {
	inc := &Incident{ID: 1, Category: "A0101", ReportedAt: t0, Status: StatusReported}
	at := func(h int) *time.Time { t := t0.Add(time.Duration(h) * time.Hour); return &t }
	switch st {
	case StatusClosed:
		inc.ClosedAt = at(4)
		fallthrough
	case StatusHandled:
		inc.HandledAt = at(3)
		fallthrough
	case StatusDispatched:
		inc.DispatchedAt = at(2)
		fallthrough
	case StatusFiled:
		inc.FiledAt = at(1)
	}
	inc.Status = st
	return inc
}

func TestChangeStatusEveryPair(t *testing.T) {
	// The allowed moves as SPEC states them: the seven-step chain, 不予立案
	// from reported, 返工 from handled back to dispatched. Every other pair,
	// staying put included, is refused.
	allowedPairs := map[[2]Status]bool{
		{StatusReported, StatusFiled}:     true,
		{StatusReported, StatusRejected}:  true,
		{StatusFiled, StatusDispatched}:   true,
		{StatusDispatched, StatusHandled}: true,
		{StatusHandled, StatusClosed}:     true,
		{StatusHandled, StatusDispatched}: true,
	}
	type tc struct {
		name     string
		from, to Status
		ok       bool
	}
	var tests []tc
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			tests = append(tests, tc{name: string(from) + "→" + string(to), from: from, to: to, ok: allowedPairs[[2]Status{from, to}]})
		}
	}
	if len(tests) != 36 {
		t.Fatalf("expected 36 pairs, got %d", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := caseIn(tt.from)
			before := *inc
			at := t0.Add(10 * time.Hour)
			err := ChangeStatus(inc, tt.to, "alice", "note", at)
			if tt.ok {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				if inc.Status != tt.to {
					t.Fatalf("status %s, want %s", inc.Status, tt.to)
				}
				if len(inc.History) != 1 {
					t.Fatalf("history has %d entries, want 1", len(inc.History))
				}
				h := inc.History[0]
				if h.From != tt.from || h.To != tt.to || h.By != "alice" || h.Note != "note" || !h.At.Equal(at) {
					t.Fatalf("history entry %+v", h)
				}
				return
			}
			if err == nil {
				t.Fatalf("want refused, got allowed")
			}
			if !errors.Is(err, ErrForbiddenTransition) {
				t.Fatalf("error %v does not wrap ErrForbiddenTransition", err)
			}
			if !strings.Contains(err.Error(), string(tt.from)) || !strings.Contains(err.Error(), string(tt.to)) {
				t.Fatalf("error %q does not name both statuses", err)
			}
			if inc.Status != before.Status || len(inc.History) != 0 || inc.Reworks != 0 {
				t.Fatalf("refused move changed the case: %+v", inc)
			}
		})
	}
}

func TestChangeStatusStepTimes(t *testing.T) {
	inc := caseIn(StatusReported)
	steps := []struct {
		name string
		to   Status
		h    int
		get  func() *time.Time
	}{
		{name: "filed", to: StatusFiled, h: 1, get: func() *time.Time { return inc.FiledAt }},
		{name: "dispatched", to: StatusDispatched, h: 2, get: func() *time.Time { return inc.DispatchedAt }},
		{name: "handled", to: StatusHandled, h: 3, get: func() *time.Time { return inc.HandledAt }},
		{name: "closed", to: StatusClosed, h: 5, get: func() *time.Time { return inc.ClosedAt }},
	}
	for _, s := range steps {
		at := t0.Add(time.Duration(s.h) * time.Hour)
		if err := ChangeStatus(inc, s.to, "op", "", at); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := s.get(); got == nil || !got.Equal(at) {
			t.Fatalf("%s: step time %v, want %v", s.name, got, at)
		}
	}
	if len(inc.History) != 4 {
		t.Fatalf("history %d entries, want 4", len(inc.History))
	}
}

func TestRework(t *testing.T) {
	inc := caseIn(StatusHandled)
	at := t0.Add(5 * time.Hour)
	if err := ChangeStatus(inc, StatusDispatched, "chief", "photo does not show the repair", at); err != nil {
		t.Fatal(err)
	}
	if inc.Reworks != 1 || inc.HandledAt != nil || !inc.DispatchedAt.Equal(at) {
		t.Fatalf("after rework: reworks %d handled %v dispatched %v", inc.Reworks, inc.HandledAt, inc.DispatchedAt)
	}
	if err := ChangeStatus(inc, StatusHandled, "crew", "", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ChangeStatus(inc, StatusDispatched, "chief", "", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if inc.Reworks != 2 {
		t.Fatalf("reworks %d, want 2", inc.Reworks)
	}
}

func TestChangeStatusRefusals(t *testing.T) {
	tests := []struct {
		name string
		inc  *Incident
		to   Status
		at   time.Time
		want string
	}{
		{name: "time before previous step", inc: caseIn(StatusDispatched), to: StatusHandled, at: t0.Add(time.Hour), want: "before the previous step"},
		{name: "time before report", inc: caseIn(StatusReported), to: StatusFiled, at: t0.Add(-time.Minute), want: "before the previous step"},
		{name: "zero time", inc: caseIn(StatusReported), to: StatusFiled, want: "missing"},
		{name: "unknown status", inc: caseIn(StatusReported), to: Status("archived"), at: t0.Add(time.Hour), want: "unknown status"},
		{name: "closed is final", inc: caseIn(StatusClosed), to: StatusDispatched, at: t0.Add(9 * time.Hour), want: "closed is final"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.inc.Status
			err := ChangeStatus(tt.inc, tt.to, "x", "", tt.at)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if tt.inc.Status != st || len(tt.inc.History) != 0 {
				t.Fatal("refused move changed the case")
			}
		})
	}
}

func TestExtend(t *testing.T) {
	d1 := t0.Add(24 * time.Hour)
	d2 := t0.Add(48 * time.Hour)
	tests := []struct {
		name     string
		status   Status
		deadline *time.Time
		to       time.Time
		wantErr  string
	}{
		{name: "open case later deadline", status: StatusDispatched, deadline: &d1, to: d2},
		{name: "no deadline yet", status: StatusFiled, to: d1},
		{name: "earlier deadline", status: StatusDispatched, deadline: &d2, to: d1, wantErr: "not after"},
		{name: "same deadline", status: StatusDispatched, deadline: &d1, to: d1, wantErr: "not after"},
		{name: "closed case", status: StatusClosed, deadline: &d1, to: d2, wantErr: "cannot be extended"},
		{name: "rejected case", status: StatusRejected, to: d2, wantErr: "cannot be extended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := caseIn(tt.status)
			inc.Deadline = tt.deadline
			err := Extend(inc, tt.to, "chief", "rain", t0.Add(5*time.Hour))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if inc.Extended || len(inc.History) != 0 {
					t.Fatal("refused extension changed the case")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !inc.Extended || !inc.Deadline.Equal(tt.to) || inc.Status != tt.status {
				t.Fatalf("after extension: %+v", inc)
			}
			h := inc.History[len(inc.History)-1]
			if h.From != tt.status || h.To != tt.status || !strings.Contains(h.Note, "延期") || !strings.Contains(h.Note, "rain") {
				t.Fatalf("history entry %+v", h)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "reported", in: "reported", ok: true},
		{name: "rejected", in: "rejected", ok: true},
		{name: "case matters", in: "Closed", ok: false},
		{name: "empty", in: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatus(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseStatus(%q) error %v", tt.in, err)
			}
		})
	}
}
