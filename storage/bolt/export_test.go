package bolt

// Commits returns how many write transactions Set and Delete committed.
func Commits(s *Storage) int64 { return s.commits.Load() }
