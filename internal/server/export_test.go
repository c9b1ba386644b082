package server

import "context"

// KeepPass runs one pass of KeepRequests.
func (s *Server) KeepPass(ctx context.Context) error {
	_, err := s.keepDue(ctx)
	return err
}
