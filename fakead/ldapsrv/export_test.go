package ldapsrv

// CapturedGoLDAP exposes the captured go-ldap PDUs (hex) to the external test package.
var CapturedGoLDAP = capturedGoLDAP

// MaxOutstandingSeen is the highest number of requests one connection had read but not answered.
func MaxOutstandingSeen(s *Server) int { return int(s.outstandingHW.Load()) }
