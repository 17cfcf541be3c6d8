package incidents

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The workflow follows the national seven steps of digital city management:
//
//	reported → filed (立案) → dispatched (派遣) → handled (处置) → closed (结案)
//	reported → rejected (不予立案)
//	handled → dispatched: rework (返工), the handling was not accepted
//
// Closed and rejected are final. A deadline extension (延期) is not a move
// between states but an action on an open case: see Extend.
func allowed(from Status) []Status {
	switch from {
	case StatusReported:
		return []Status{StatusFiled, StatusRejected}
	case StatusFiled:
		return []Status{StatusDispatched}
	case StatusDispatched:
		return []Status{StatusHandled}
	case StatusHandled:
		return []Status{StatusClosed, StatusDispatched}
	}
	return nil
}

// Statuses lists every status in workflow order.
func Statuses() []Status {
	return []Status{StatusReported, StatusFiled, StatusDispatched, StatusHandled, StatusClosed, StatusRejected}
}

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want one of %s)", s, joinStatuses(Statuses()))
}

// Valid tells whether s is a status of the workflow.
func (s Status) Valid() bool {
	_, err := ParseStatus(string(s))
	return err == nil
}

// Open tells whether a case in this status still awaits closing.
func (s Status) Open() bool {
	return s != StatusClosed && s != StatusRejected
}

// Next lists the statuses a case in s may move to.
func (s Status) Next() []Status {
	return allowed(s)
}

// CanTransition tells whether the workflow allows the move from → to.
func CanTransition(from, to Status) bool {
	for _, n := range allowed(from) {
		if n == to {
			return true
		}
	}
	return false
}

// ErrForbiddenTransition is wrapped by every refused status change, so a
// caller can answer 409 Conflict without parsing the message.
var ErrForbiddenTransition = errors.New("forbidden status transition")

// TransitionError reports a move the workflow does not allow.
type TransitionError struct {
	From, To Status
	Reason   string // set when the move is allowed in principle but not now
}

func (e *TransitionError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("status %s → %s: %s", e.From, e.To, e.Reason)
	}
	next := allowed(e.From)
	if len(next) == 0 {
		return fmt.Sprintf("forbidden status transition %s → %s: %s is final", e.From, e.To, e.From)
	}
	return fmt.Sprintf("forbidden status transition %s → %s (from %s the case may go to %s)",
		e.From, e.To, e.From, joinStatuses(next))
}

func (e *TransitionError) Unwrap() error { return ErrForbiddenTransition }

// ChangeStatus moves inc to status to at time at, stamps the step time, counts
// a rework and appends the change to the history. Nothing is changed when
// the move is refused.
func ChangeStatus(inc *Incident, to Status, by, note string, at time.Time) error {
	from := inc.Status
	if !to.Valid() {
		return &TransitionError{From: from, To: to, Reason: fmt.Sprintf("unknown status %q", to)}
	}
	if !CanTransition(from, to) {
		return &TransitionError{From: from, To: to}
	}
	if at.IsZero() {
		return &TransitionError{From: from, To: to, Reason: "the time of the change is missing"}
	}
	if last := lastStepTime(inc); at.Before(last) {
		return &TransitionError{From: from, To: to,
			Reason: fmt.Sprintf("time %s is before the previous step (%s)", at.Format(time.RFC3339), last.Format(time.RFC3339))}
	}
	t := at
	switch to {
	case StatusFiled:
		inc.FiledAt = &t
	case StatusDispatched:
		if from == StatusHandled {
			// Rework: the handling was not accepted, the case goes back out
			// and the earlier handling no longer counts.
			inc.Reworks++
			inc.HandledAt = nil
		}
		inc.DispatchedAt = &t
	case StatusHandled:
		inc.HandledAt = &t
	case StatusClosed:
		inc.ClosedAt = &t
	case StatusRejected:
		// No step time of its own: the history keeps when it happened.
	}
	inc.Status = to
	inc.History = append(inc.History, Transition{At: at, By: by, From: from, To: to, Note: note})
	return nil
}

// Extend grants a deadline extension (延期) to an open case: the deadline
// moves to deadline, Extended is set and the history records the action as
// an entry whose From and To are both the current status.
func Extend(inc *Incident, deadline time.Time, by, note string, at time.Time) error {
	st := inc.Status
	if !st.Open() {
		return &TransitionError{From: st, To: st, Reason: "a closed or rejected case cannot be extended"}
	}
	if inc.Deadline != nil && !deadline.After(*inc.Deadline) {
		return &TransitionError{From: st, To: st,
			Reason: fmt.Sprintf("new deadline %s is not after the current one %s", deadline.Format(time.RFC3339), inc.Deadline.Format(time.RFC3339))}
	}
	if at.IsZero() {
		return &TransitionError{From: st, To: st, Reason: "the time of the extension is missing"}
	}
	d := deadline
	inc.Deadline = &d
	inc.Extended = true
	msg := "延期 to " + deadline.UTC().Format(time.RFC3339)
	if note != "" {
		msg += ": " + note
	}
	inc.History = append(inc.History, Transition{At: at, By: by, From: st, To: st, Note: msg})
	return nil
}

// lastStepTime is the latest time the case is known to have changed, so
// that a history never runs backwards.
func lastStepTime(inc *Incident) time.Time {
	last := inc.ReportedAt
	for _, p := range []*time.Time{inc.FiledAt, inc.DispatchedAt, inc.HandledAt, inc.ClosedAt} {
		if p != nil && p.After(last) {
			last = *p
		}
	}
	for _, h := range inc.History {
		if h.At.After(last) {
			last = h.At
		}
	}
	return last
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
