package server

// uiAdminRoutes: audit (/audit), administration (/admin), the guided integration (/admin/setup).
func (s *Server) uiAdminRoutes() {}
