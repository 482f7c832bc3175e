package mmtest

import "fmt"

// SetTeamAdmin makes a team member (a user or a bot) an admin of the team,
// or takes the role away, as the System Console's "Make Team Admin" does
// (the membership's scheme_admin and the team_admin role). A team admin
// may manage the team's slash commands and webhooks.
func (s *Server) SetTeamAdmin(teamID, userID string, admin bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.teamMembers[teamID][userID]
	if m == nil || m.DeleteAt != 0 {
		return fmt.Errorf("mmtest: set team admin: %s is not a member of team %s", userID, teamID)
	}
	m.SchemeAdmin, m.Roles = admin, "team_user"
	if admin {
		m.Roles = "team_user team_admin"
	}
	s.touch()
	return nil
}

// SetChannelAdmin makes a channel member a channel admin, or takes the
// role away (the membership's scheme_admin and the channel_admin role).
func (s *Server) SetChannelAdmin(channelID, userID string, admin bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.members[channelID][userID]
	if m == nil {
		return fmt.Errorf("mmtest: set channel admin: %s is not a member of channel %s", userID, channelID)
	}
	m.SchemeAdmin, m.Roles = admin, "channel_user"
	if admin {
		m.Roles = "channel_user channel_admin"
	}
	s.touch()
	return nil
}
