package server

// uiGovernRoutes: the review inbox (/reviews), access lists (/lists, /lists/{name}).
func (s *Server) uiGovernRoutes() {}
