package api

import "net/http"

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Ready != nil {
		if err := s.opt.Ready(); err != nil {
			return problem(http.StatusServiceUnavailable, "not ready: %v", err)
		}
	}
	if _, err := s.reg.Current(); err != nil {
		return problem(http.StatusServiceUnavailable, "not ready: %v", err)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
