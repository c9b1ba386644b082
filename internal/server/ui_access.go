package server

import (
	"net/http"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/web"
)

// uiAccessRoutes: My access (/), Request access (/request), the request pages (/requests/{id}).
func (s *Server) uiAccessRoutes() {
	s.handle("GET /{$}", s.ui(web.SectionAccess, func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
		http.Redirect(w, r, "/account", http.StatusSeeOther) // until My access is built
	}))
}
