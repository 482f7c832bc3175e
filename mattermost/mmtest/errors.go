package mmtest

import (
	"net/http"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// messages holds the English text (server/i18n/en.json) of every error id
// the fake answers with. {{.Name}} is replaced by the parameter name, as the
// server's translation does.
var messages = map[string]string{
	"api.context.404.app_error":                                "Sorry, we could not find the page.",
	"app.channel.get_channels.not_found.app_error":             "No channels were found.", // text unverified
	"api.context.session_expired.app_error":                    "Invalid or expired session, please login again.",
	"api.context.token_provided.app_error":                     "Session is not OAuth but token was provided in the query string.",
	"api.context.permissions.app_error":                        "You do not have the appropriate permissions.",
	"api.context.invalid_url_param.app_error":                  "Invalid or missing {{.Name}} parameter in request URL.",
	"api.context.invalid_body_param.app_error":                 "Invalid or missing {{.Name}} in request body.",
	"api.context.invalid_param.app_error":                      "Invalid {{.Name}} parameter.",
	"api.context.request_body_too_large.app_error":             "Request body is too large.",
	"api.user.login.invalid_credentials_email_username":        "Enter a valid email or username and/or password.",
	"api.user.login.bot_login_forbidden.app_error":             "Bot login is forbidden.",
	"api.user.login.inactive.app_error":                        "Login failed because your account has been deactivated.  Please contact an administrator.",
	"app.user.missing_account.const":                           "Unable to find the user.",
	"app.user.get_by_username.app_error":                       "Unable to find an existing account matching your username for this team. This team may require an invite from the team owner to join.",
	"app.user.get_by_email.app_error":                          "Unable to find an existing account matching your email address for this team. This team may require an invite from the team owner to join.",
	"app.user_access_token.get_by_user.app_error":              "Unable to get user access tokens by user.",
	"app.user_access_token.disabled":                           "User access tokens are disabled on this server. Please contact your system administrator for details.",
	"api.user.create_user_access_token.disabled.app_error":     "Personal access tokens are disabled.",
	"app.team.get_by_name.missing.app_error":                   "Unable to find the existing team.",
	"app.team.get.find.app_error":                              "Unable to find the existing team.",
	"app.team.get_member.missing.app_error":                    "No team member found for that user ID and team ID.",
	"app.channel.get_by_name.missing.app_error":                "Channel does not exist.",
	"app.channel.get.existing.app_error":                       "Unable to find the existing channel.",
	"app.channel.get_member.missing.app_error":                 "No channel member found for that user ID and channel ID.",
	"store.sql_channel.save_channel.exists.app_error":          "A channel with that name already exists on the same team.",
	"model.channel.is_valid.name.app_error":                    "Invalid channel name. User ids are not permitted in channel name for non-direct message channels.",
	"model.channel.is_valid.display_name.app_error":            "Invalid display name.",
	"model.channel.is_valid.type.app_error":                    "Invalid type.",
	"model.channel.is_valid.header.app_error":                  "Invalid header.",
	"model.channel.is_valid.purpose.app_error":                 "Invalid purpose.",
	"api.channel.create_group.bad_size.app_error":              "Group message channels must contain at least 3 and no more than 8 users.",
	"api.channel.create_direct_channel.invalid_user.app_error": "Invalid user ID for direct channel creation.",
	"api.channel.add_user_to_channel.type.app_error":           "Can not add user to this channel type.",
	"api.channel.add_user.to.channel.failed.app_error":         "Failed to add user to channel.",
	"api.channel.remove.default.app_error":                     "Unable to remove user from the default channel {{.Name}}.",
	"api.channel.remove_user_from_channel.direct.app_error":    "Unable to remove user from a direct message channel.",
	"api.channel.delete_channel.type.invalid":                  "Unable to delete direct or group message channels",
	"api.channel.delete_channel.cannot.app_error":              "Unable to delete the default channel {{.Name}}.",
	"api.channel.delete_channel.deleted.app_error":             "The channel has been archived or deleted.",
	"model.post.is_valid.msg.app_error":                        "Invalid message.",
	"model.post.is_valid.props.app_error":                      "Invalid props.",
	"model.post.is_valid.file_ids.app_error":                   "Invalid file ids. Note that uploads are limited to 10 files maximum. Please use additional posts for more files.",
	"model.post.is_valid.channel_id.app_error":                 "Invalid channel id.",
	"api.post.create_post.root_id.app_error":                   "Invalid RootId parameter.",
	"api.post.create_post.can_not_post_to_deleted.error":       "Can not post to deleted channel.",
	"app.post.get.app_error":                                   "Unable to get the post.",
	"api.post.update_post.find.app_error":                      "We couldn't find the existing post or comment to update.",
	"api.reaction.save_reaction.invalid.app_error":             "Reaction is not valid.",
	"api.reaction.save_reaction.user_id.app_error":             "You cannot save reaction for the other user.",
	"app.file_info.get.app_error":                              "Unable to get the file info.",
	"api.file.upload_file.too_large_detailed.app_error":        "Unable to upload file {{.Name}}. File is too large.",
	"api.file.upload_file.read_request.app_error":              "Unable to upload file(s). Error reading or parsing request data.", // text unverified
	"api.file.upload_file.read_form_value.app_error":           "Unable to upload file(s). Error reading form value.",              // text unverified
	"api.file.upload_file.multiple_channel_ids.app_error":      "Unable to upload file(s). Multiple conflicting channel_ids.",      // text unverified
	"api.file.attachments.disabled.app_error":                  "File attachments have been disabled on this server.",
	"web.incoming_webhook.invalid.app_error":                   "Invalid webhook.",
	"web.incoming_webhook.text.app_error":                      "No text specified.",
	"web.incoming_webhook.parse.app_error":                     "Unable to parse incoming data.",
	"web.incoming_webhook.channel.app_error":                   "Couldn't find the channel.",
	"api.webhook.incoming.error":                               "Could not decode the multipart payload of incoming webhook.",
	"api.user.update_active.not_enable.app_error":              "You cannot deactivate yourself because this feature is not enabled. Please contact your System Administrator.",
	"api.bot.create_disabled":                                  "Bot creation has been disabled.",
	"app.user.save.username_exists.app_error":                  "An account with that username already exists.",
	"model.user.is_valid.username.app_error":                   "Username must begin with a letter, and contain between 3 to 22 lowercase characters made up of numbers, letters, and the symbols '.', '-', and '_'.",
	"mfa.validate_token.authenticate.app_error":                "Invalid MFA token.",
	"api.user.check_user_mfa.bad_code.app_error":               "Invalid MFA token.",
	// Routes of stats, search, preferences, emoji, bots, commands, config.
	"api.channel.patch_update_channel.forbidden.app_error":                             "Failed to update the channel.",
	"api.channel.update_channel.update_direct_or_group_messages_not_allowed.app_error": "You are not allowed to update the name, display_name, and purpose of direct or group messages.",
	"api.channel.update_channel.deleted.app_error":                                     "The channel has been archived or deleted.",
	"api.channel.update_channel.typechange.app_error":                                  "Channel type cannot be updated.",
	"api.channel.update_channel.tried.app_error":                                       "Tried to perform an invalid update of the default channel {{.Name}}.",
	"api.team.get_all_teams.insufficient_permissions":                                  "You don't have the appropriate permissions to list all teams",
	"api.user.autocomplete_users.missing_team_id.app_error":                            "Team id parameter is required to autocomplete by channel.",
	"api.post.search_posts.invalid_body.app_error":                                     "Unable to parse the request body.",
	"api.preference.delete_preferences.delete.app_error":                               "Unable to delete user preferences.",
	"api.preference.preferences_category.get.app_error":                                "Unable to get user preferences.",
	"api.preference.update_preferences.set.app_error":                                  "Unable to set user preferences.",
	"app.preference.get.app_error":                                                     "Unable to find preference.", // text unverified
	"model.preference.is_valid.id.app_error":                                           "Invalid user id.",           // text unverified
	"model.preference.is_valid.category.app_error":                                     "Invalid category.",          // text unverified
	"model.preference.is_valid.name.app_error":                                         "Invalid name.",              // text unverified
	"model.preference.is_valid.value.app_error":                                        "Value is too long.",         // text unverified
	"app.emoji.get.no_result":                                                          "Unable to find the emoji.",  // text unverified
	"app.emoji.get_by_name.no_result":                                                  "Unable to find the emoji.",  // text unverified
	"store.sql_bot.get.missing.app_error":                                              "Bot does not exist.",        // text unverified
	"model.bot.is_valid.username.app_error":                                            "Invalid username.",          // text unverified
	"model.bot.is_valid.display_name.app_error":                                        "Invalid display name.",      // text unverified
	"model.bot.is_valid.description.app_error":                                         "Invalid description.",       // text unverified
	"model.user.is_valid.first_name.app_error":                                         "Invalid first name.",        // text unverified
	"api.bot.teams_channels.add_message_mobile":                                        botAddMessage,
	"api.command.duplicate_trigger.app_error":                                          "This trigger word is already in use. Please choose another word.",
	"api.command.execute_command.start.app_error":                                      "No command trigger found.",
	"api.command.execute_command.deleted.error":                                        "Can not run command in deleted channel.",
	"api.command.execute_command.failed.app_error":                                     "Command with a trigger of '{{.Name}}' failed.",
	"api.command.execute_command.failed_resp.app_error":                                "Command with a trigger of '{{.Name}}' returned response {{.Status}}.",                   // text unverified
	"api.command.execute_command.failed_empty.app_error":                               "Command with a trigger of '{{.Name}}' returned an empty response.",                      // text unverified
	"api.command.execute_command.create_post_failed.app_error":                         "Command '{{.Name}}' failed to post response. Please contact your System Administrator.", // text unverified
	"api.command.command_post.forbidden.app_error":                                     "Specified user is not a member of specified channel.",                                   // text unverified
	"api.command.team_mismatch.app_error":                                              "Unable to update commands across teams.",                                                // text unverified
	"app.command_webhook.get.missing":                                                  "Unable to find the webhook.",                                                            // text unverified
	"app.command_webhook.handle_command_webhook.parse":                                 "Unable to parse incoming data.",                                                         // text unverified
	"app.command_webhook.try_use.invalid":                                              "Invalid webhook.",                                                                       // text unverified
	"api.command.execute_command.not_found.app_error":                                  "Command with a trigger of '{{.Name}}' not found. To send a message beginning with \"/\", try adding an empty space at the beginning of the message.",
	"store.sql_command.save.get.app_error":                                             "Unable to get the command.",                                           // text unverified
	"model.command.is_valid.user_id.app_error":                                         "Invalid user id.",                                                     // text unverified
	"model.command.is_valid.team_id.app_error":                                         "Invalid team ID.",                                                     // text unverified
	"model.command.is_valid.trigger.app_error":                                         "Invalid trigger.",                                                     // text unverified
	"model.command.is_valid.url.app_error":                                             "Invalid URL.",                                                         // text unverified
	"model.command.is_valid.url_http.app_error":                                        "Invalid URL. Must be a valid URL and start with http:// or https://.", // text unverified
	"model.command.is_valid.method.app_error":                                          "Invalid method.",                                                      // text unverified
	"model.command.is_valid.display_name.app_error":                                    "Invalid title.",                                                       // text unverified
	"model.command.is_valid.description.app_error":                                     "Invalid description.",                                                 // text unverified
	"api.config.client.old_format.app_error":                                           "New format for the client configuration is not supported yet. Please specify format=old in the query string.",
	"api.license.client.old_format.app_error":                                          "New format for the client license is not supported yet. Please specify format=old in the query string.", // text unverified
	"app.user.save.email_exists.app_error":                                             "An account with that email already exists.",
	"model.user.is_valid.email.app_error":                                              "Invalid email.",                                            // text unverified
	"model.user.is_valid.nickname.app_error":                                           "Invalid nickname.",                                         // text unverified
	"model.user.is_valid.last_name.app_error":                                          "Invalid last name.",                                        // text unverified
	"model.user.is_valid.position.app_error":                                           "Invalid position: must not be longer than 128 characters.", // text unverified
	"api.payload.parse_error":                                                          "Error parsing the payload.",                                // text unverified
	"mmtest.fault.app_error":                                                           "Injected fault (mmtest).",
}

// apiError builds the AppError body for id with the HTTP status code. name
// fills {{.Name}} in the message, where the id has one.
func apiError(status int, id, name string) *mattermost.APIError {
	msg := messages[id]
	if name != "" {
		msg = strings.ReplaceAll(msg, "{{.Name}}", name)
	}
	return &mattermost.APIError{ID: id, Message: msg, StatusCode: status}
}

// writeError writes e as the server's handleContextError does
// (server/channels/web/handlers.go): JSON AppError with the request id, the
// status equal to status_code, and detailed_error wiped because the fake
// runs with EnableDeveloper off.
func writeError(w http.ResponseWriter, requestID string, e *mattermost.APIError) {
	e.RequestID = requestID
	e.DetailedError = ""
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.StatusCode)
	_ = writeJSONBody(w, e) // the client went away; nothing to do
}
