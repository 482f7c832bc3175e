package mattermost

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestActionRoutes(t *testing.T) {
	c, mux, _ := setup(t, nil)
	ctx := context.Background()
	mux.HandleFunc("POST /api/v4/actions/dialogs/open", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"trigger_id": "tr", "url": "http://bot/d", "dialog": map[string]any{
			"callback_id": "cb", "title": "T", "introduction_text": "", "icon_url": "", "submit_label": "",
			"notify_on_cancel": false, "state": "st", "elements": []any{map[string]any{
				"display_name": "Env", "name": "env", "type": "select", "subtype": "", "default": "", "placeholder": "",
				"help_text": "", "optional": false, "min_length": 0.0, "max_length": 0.0, "data_source": "",
				"options": []any{map[string]any{"text": "Prod", "value": "prod"}}}}}})
		writeJSON(w, 200, map[string]string{"status": "OK"})
	})
	mux.HandleFunc("POST /api/v4/posts/p1/actions/a1", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"selected_option": "prod"})
		writeJSON(w, 200, &PostActionAPIResponse{Status: "OK", TriggerID: "t1"})
	})
	mux.HandleFunc("POST /api/v4/actions/dialogs/submit", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"type": "", "url": "http://bot/d", "callback_id": "cb", "state": "st", "user_id": "",
			"channel_id": "c1", "team_id": "t1", "submission": map[string]any{"env": "qa"}, "cancelled": false})
		writeJSON(w, 200, map[string]any{"errors": map[string]string{"env": "no"}})
	})
	_, err := c.OpenDialog(ctx, &OpenDialogRequest{TriggerID: "tr", URL: "http://bot/d", Dialog: Dialog{CallbackID: "cb", Title: "T", State: "st",
		Elements: []DialogElement{{DisplayName: "Env", Name: "env", Type: "select", Options: []*AttachmentOption{{Text: "Prod", Value: "prod"}}}}}})
	if err != nil {
		t.Errorf("OpenDialog: %v", err)
	}
	got, _, err := c.DoPostAction(ctx, "p1", "a1", "prod", "")
	if err != nil || got.TriggerID != "t1" {
		t.Errorf("DoPostAction = %+v, %v; want trigger t1", got, err)
	}
	sr, _, err := c.SubmitDialog(ctx, &SubmitDialogRequest{URL: "http://bot/d", CallbackID: "cb", State: "st", ChannelID: "c1", TeamID: "t1",
		Submission: map[string]any{"env": "qa"}})
	if err != nil {
		t.Fatalf("SubmitDialog: %v", err)
	}
	if diff := cmp.Diff(&SubmitDialogResponse{Errors: map[string]string{"env": "no"}}, sr); diff != "" {
		t.Errorf("SubmitDialog (-want +got):\n%s", diff)
	}
}
