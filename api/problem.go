package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists per-item problems (a batch's bad lines, a form's fields).
	Errors []ItemError `json:"errors,omitempty"`
}

// ItemError names one bad item of a request.
type ItemError struct {
	Line  int    `json:"line,omitempty"`
	Index *int   `json:"index,omitempty"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

func problem(status int, format string, args ...any) *Problem {
	return &Problem{Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Problem {
	return problem(http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *Problem {
	return problem(http.StatusNotFound, format, args...)
}

// handlerFunc is a handler that returns its error; adapt maps the error to
// a status and a problem+json body in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) adapt(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var p *Problem
		if !errors.As(err, &p) {
			if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
				p = problem(http.StatusServiceUnavailable, "request cancelled or timed out")
			} else {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
				p = problem(http.StatusInternalServerError, "internal error")
			}
		}
		writeProblem(w, r, p)
	}
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("Content-Encoding")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
	return nil
}
