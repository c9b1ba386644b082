package idcsim

import "net/http"

func (s *Sim) serveSCIM(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "SCIM is not implemented yet", http.StatusNotImplemented)
}
