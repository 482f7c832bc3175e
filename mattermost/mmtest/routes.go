package mmtest

// routes is the REST table, under /api/v4, in the registration order of
// server/channels/api4 (first match wins). auth false marks the routes that
// run without a session.
func (s *Server) routes() []route {
	return []route{
		// users.go (api4/user.go InitUser)
		{method: "POST", pattern: "/users/login", handler: (*request).login},
		{method: "POST", pattern: "/users/logout", auth: true, handler: (*request).logout},
		{method: "POST", pattern: "/users/ids", auth: true, handler: (*request).getUsersByIDs},
		{method: "POST", pattern: "/users/usernames", auth: true, handler: (*request).getUsersByUsernames},
		{method: "POST", pattern: "/users/status/ids", auth: true, handler: (*request).getStatusesByIDs},
		{method: "POST", pattern: "/users/tokens/revoke", auth: true, handler: (*request).revokeToken},
		{method: "POST", pattern: "/users/search", auth: true, handler: (*request).searchUsers},
		{method: "GET", pattern: "/users/autocomplete", auth: true, handler: (*request).autocompleteUsers},
		{method: "GET", pattern: "/users", auth: true, handler: (*request).getUsers},
		{method: "POST", pattern: "/users", auth: true, handler: (*request).createUserAPI},
		{method: "PUT", pattern: "/users/{user_id}/patch", auth: true, handler: (*request).patchUser},
		{method: "PUT", pattern: "/users/{user_id}/active", auth: true, handler: (*request).updateUserActive},
		{method: "GET", pattern: "/users/username/{username}", auth: true, handler: (*request).getUserByUsername},
		{method: "GET", pattern: "/users/email/{email}", auth: true, handler: (*request).getUserByEmail},
		{method: "GET", pattern: "/users/{user_id}", auth: true, handler: (*request).getUser},
		{method: "PUT", pattern: "/users/{user_id}", auth: true, handler: (*request).updateUser},
		{method: "GET", pattern: "/users/{user_id}/image", auth: true, handler: (*request).getProfileImage},
		{method: "GET", pattern: "/users/{user_id}/sessions", auth: true, handler: (*request).getSessions},
		{method: "GET", pattern: "/users/{user_id}/status", auth: true, handler: (*request).getStatus},
		{method: "PUT", pattern: "/users/{user_id}/status", auth: true, handler: (*request).updateStatus},
		{method: "POST", pattern: "/users/{user_id}/typing", auth: true, handler: (*request).typing},
		{method: "POST", pattern: "/users/{user_id}/tokens", auth: true, handler: (*request).createToken},

		// bots.go (api4/bot.go InitBot)
		{method: "POST", pattern: "/bots", auth: true, handler: (*request).createBotAPI},
		{method: "GET", pattern: "/bots", auth: true, handler: (*request).getBots},
		{method: "GET", pattern: "/bots/{bot_user_id}", auth: true, handler: (*request).getBot},
		{method: "PUT", pattern: "/bots/{bot_user_id}", auth: true, handler: (*request).patchBot},
		{method: "POST", pattern: "/bots/{bot_user_id}/disable", auth: true, handler: (*request).disableBot},
		{method: "POST", pattern: "/bots/{bot_user_id}/enable", auth: true, handler: (*request).enableBot},
		{method: "POST", pattern: "/bots/{bot_user_id}/assign/{user_id}", auth: true, handler: (*request).assignBot},

		// preferences.go (api4/preference.go InitPreference)
		{method: "GET", pattern: "/users/{user_id}/preferences", auth: true, handler: (*request).getPreferences},
		{method: "PUT", pattern: "/users/{user_id}/preferences", auth: true, handler: (*request).updatePreferences},
		{method: "POST", pattern: "/users/{user_id}/preferences/delete", auth: true, handler: (*request).deletePreferences},
		{method: "GET", pattern: "/users/{user_id}/preferences/{category}", auth: true, handler: (*request).getPreferencesByCategory},
		{method: "GET", pattern: "/users/{user_id}/preferences/{category}/name/{preference_name}", auth: true, handler: (*request).getPreferenceByName},

		// teams.go (api4/team.go InitTeam)
		{method: "GET", pattern: "/teams", auth: true, handler: (*request).getAllTeams},
		{method: "GET", pattern: "/users/{user_id}/teams/unread", auth: true, handler: (*request).getTeamsUnreadForUser},
		{method: "GET", pattern: "/users/{user_id}/teams/members", auth: true, handler: (*request).getTeamMembersForUser},
		{method: "GET", pattern: "/users/{user_id}/teams", auth: true, handler: (*request).getUserTeams},
		{method: "GET", pattern: "/teams/name/{team_name}", auth: true, handler: (*request).getTeamByName},
		{method: "GET", pattern: "/teams/{team_id}", auth: true, handler: (*request).getTeam},
		{method: "GET", pattern: "/teams/{team_id}/stats", auth: true, handler: (*request).getTeamStats},
		{method: "GET", pattern: "/teams/{team_id}/members", auth: true, handler: (*request).getTeamMembers},
		{method: "POST", pattern: "/teams/{team_id}/members/ids", auth: true, handler: (*request).getTeamMembersByIDs},
		{method: "GET", pattern: "/users/{user_id}/teams/{team_id}/unread", auth: true, handler: (*request).getTeamUnread},
		{method: "GET", pattern: "/teams/{team_id}/members/{user_id}", auth: true, handler: (*request).getTeamMember},
		{method: "POST", pattern: "/teams/{team_id}/members", auth: true, handler: (*request).addTeamMemberAPI},

		// channels.go (api4/channel.go InitChannel)
		{method: "POST", pattern: "/channels", auth: true, handler: (*request).createChannelAPI},
		{method: "POST", pattern: "/channels/direct", auth: true, handler: (*request).createDirect},
		{method: "POST", pattern: "/channels/group", auth: true, handler: (*request).createGroup},
		{method: "POST", pattern: "/channels/members/{user_id}/view", auth: true, handler: (*request).viewChannel},
		{method: "GET", pattern: "/channels/{channel_id}", auth: true, handler: (*request).getChannel},
		{method: "PUT", pattern: "/channels/{channel_id}", auth: true, handler: (*request).updateChannel},
		{method: "PUT", pattern: "/channels/{channel_id}/patch", auth: true, handler: (*request).patchChannel},
		{method: "DELETE", pattern: "/channels/{channel_id}", auth: true, handler: (*request).deleteChannel},
		{method: "GET", pattern: "/channels/{channel_id}/stats", auth: true, handler: (*request).getChannelStats},
		{method: "GET", pattern: "/channels/{channel_id}/pinned", auth: true, handler: (*request).getPinnedPosts},
		{method: "GET", pattern: "/channels/{channel_id}/timezones", auth: true, handler: (*request).getChannelTimezones},
		{method: "GET", pattern: "/channels/{channel_id}/members", auth: true, handler: (*request).getChannelMembers},
		{method: "POST", pattern: "/channels/{channel_id}/members", auth: true, handler: (*request).addChannelMemberAPI},
		{method: "POST", pattern: "/channels/{channel_id}/members/ids", auth: true, handler: (*request).getChannelMembersByIDs},
		{method: "GET", pattern: "/channels/{channel_id}/members/{user_id}", auth: true, handler: (*request).getChannelMember},
		{method: "DELETE", pattern: "/channels/{channel_id}/members/{user_id}", auth: true, handler: (*request).removeChannelMember},
		{method: "GET", pattern: "/teams/{team_id}/channels", auth: true, handler: (*request).getTeamChannels},
		{method: "GET", pattern: "/teams/{team_id}/channels/private", auth: true, handler: (*request).getPrivateChannelsForTeam},
		{method: "POST", pattern: "/teams/{team_id}/channels/search", auth: true, handler: (*request).searchChannelsForTeam},
		{method: "GET", pattern: "/teams/{team_id}/channels/autocomplete", auth: true, handler: (*request).autocompleteChannelsForTeam},
		{method: "GET", pattern: "/teams/{team_id}/channels/name/{channel_name}", auth: true, handler: (*request).getChannelByName},
		{method: "GET", pattern: "/teams/name/{team_name}/channels/name/{channel_name}", auth: true, handler: (*request).getChannelByTeamAndName},
		{method: "GET", pattern: "/users/{user_id}/teams/{team_id}/channels", auth: true, handler: (*request).getUserChannels},
		{method: "GET", pattern: "/users/{user_id}/teams/{team_id}/channels/members", auth: true, handler: (*request).getUserChannelMembers},
		{method: "GET", pattern: "/users/{user_id}/channels", auth: true, handler: (*request).getAllUserChannels, since: "6.1"},

		// posts.go (api4/post.go InitPost)
		{method: "POST", pattern: "/posts", auth: true, handler: (*request).createPostAPI},
		{method: "POST", pattern: "/posts/ids", auth: true, handler: (*request).getPostsByIDs},
		{method: "POST", pattern: "/posts/ephemeral", auth: true, handler: (*request).createEphemeral},
		{method: "GET", pattern: "/posts/{post_id}", auth: true, handler: (*request).getPost},
		{method: "PUT", pattern: "/posts/{post_id}", auth: true, handler: (*request).updatePost},
		{method: "PUT", pattern: "/posts/{post_id}/patch", auth: true, handler: (*request).patchPost},
		{method: "DELETE", pattern: "/posts/{post_id}", auth: true, handler: (*request).deletePost},
		{method: "GET", pattern: "/posts/{post_id}/thread", auth: true, handler: (*request).getThread},
		{method: "POST", pattern: "/posts/{post_id}/pin", auth: true, handler: (*request).pinPost},
		{method: "POST", pattern: "/posts/{post_id}/unpin", auth: true, handler: (*request).unpinPost},
		{method: "GET", pattern: "/posts/{post_id}/files/info", auth: true, handler: (*request).getPostFileInfos},
		{method: "GET", pattern: "/channels/{channel_id}/posts", auth: true, handler: (*request).getChannelPosts},
		{method: "POST", pattern: "/teams/{team_id}/posts/search", auth: true, handler: (*request).searchPostsInTeam},

		// actions.go (api4/integration_action.go InitAction)
		{method: "POST", pattern: "/posts/{post_id}/actions/{action_id}", auth: true, handler: (*request).doPostAction},
		{method: "POST", pattern: "/actions/dialogs/open", handler: (*request).openDialog},
		{method: "POST", pattern: "/actions/dialogs/submit", auth: true, handler: (*request).submitDialog},

		// reactions.go (api4/reaction.go InitReaction)
		{method: "POST", pattern: "/reactions", auth: true, handler: (*request).saveReaction},
		{method: "GET", pattern: "/posts/{post_id}/reactions", auth: true, handler: (*request).getReactions},
		{method: "DELETE", pattern: "/users/{user_id}/posts/{post_id}/reactions/{emoji_name}", auth: true, handler: (*request).deleteReaction},

		// files.go (api4/file.go InitFile)
		{method: "POST", pattern: "/files", auth: true, handler: (*request).uploadFiles},
		{method: "GET", pattern: "/files/{file_id}", auth: true, handler: (*request).getFile},
		{method: "GET", pattern: "/files/{file_id}/info", auth: true, handler: (*request).getFileInfo},

		// hooks.go (api4/webhook.go InitWebhook)
		{method: "POST", pattern: "/hooks/incoming", auth: true, handler: (*request).createHookAPI},

		// roles.go (api4/role.go InitRole)
		{method: "POST", pattern: "/roles/names", auth: true, handler: (*request).getRolesByNames},

		// emoji.go (api4/emoji.go InitEmoji)
		{method: "GET", pattern: "/emoji", auth: true, handler: (*request).getEmojiList},
		{method: "POST", pattern: "/emoji/search", auth: true, handler: (*request).searchEmojis},
		{method: "GET", pattern: "/emoji/autocomplete", auth: true, handler: (*request).autocompleteEmojis},
		{method: "GET", pattern: "/emoji/name/{emoji_name}", auth: true, handler: (*request).getEmojiByName},
		{method: "GET", pattern: "/emoji/{emoji_id}", auth: true, handler: (*request).getEmoji},

		// commands.go (api4/command.go InitCommand)
		{method: "POST", pattern: "/commands", auth: true, handler: (*request).createCommand},
		{method: "GET", pattern: "/commands", auth: true, handler: (*request).listCommands},
		{method: "POST", pattern: "/commands/execute", auth: true, handler: (*request).executeCommand},
		{method: "GET", pattern: "/commands/{command_id}", auth: true, handler: (*request).getCommand},
		{method: "PUT", pattern: "/commands/{command_id}", auth: true, handler: (*request).updateCommand},
		{method: "DELETE", pattern: "/commands/{command_id}", auth: true, handler: (*request).deleteCommand},

		// client_config.go (api4/config.go getClientConfig, api4/license.go getClientLicense)
		{method: "GET", pattern: "/config/client", handler: (*request).getClientConfig},
		{method: "GET", pattern: "/license/client", handler: (*request).getClientLicense},

		// system.go (api4/system.go InitSystem)
		{method: "GET", pattern: "/system/ping", handler: (*request).ping},
	}
}

// webRoutes are served outside /api/v4 (server/channels/web/webhook.go).
func (s *Server) webRoutes() []route {
	return []route{
		{method: "POST", pattern: "/hooks/{hook_id}", handler: (*request).postHook},
		{method: "POST", pattern: "/hooks/commands/{hook_id}", handler: (*request).postCommandHook},
	}
}
