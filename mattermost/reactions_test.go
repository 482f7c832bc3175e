package mattermost

import (
	"context"
	"net/http"
	"testing"
)

func TestReactionsRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "AddReaction", file: "reaction_add.json", before: func(c *Client) { c.setUserID(bob) },
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.AddReaction(ctx, "g77s5139uin4tcxikynebsumua", ":thumbsup:"))
			}},
		{name: "RemoveReaction", file: "reaction_remove.json", before: func(c *Client) { c.setUserID(bob) },
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				r, err := c.RemoveReaction(ctx, "7ky7uqpxuidstmodde7rrpro6o", "tada")
				return nil, r, err
			}},
		{name: "Reactions", file: "post_reactions.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Reactions(ctx, "7ky7uqpxuidstmodde7rrpro6o"))
		}},
	})
}

// TestReactionsFindSelf: the user id in the reaction is ours, asked once.
func TestReactionsFindSelf(t *testing.T) {
	c, mux, _ := setup(t, nil)
	var me int
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		me++
		writeRecorded(w, loadRecorded(t, "users_me.json"))
	})
	mux.HandleFunc("POST /api/v4/reactions", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"user_id": alice, "post_id": "p1", "emoji_name": "+1"})
		writeJSON(w, 200, &Reaction{UserID: alice, PostID: "p1", EmojiName: "+1"})
	})
	mux.HandleFunc("DELETE /api/v4/users/"+alice+"/posts/p1/reactions/{emoji}", func(w http.ResponseWriter, r *http.Request) {
		if got := r.PathValue("emoji"); got != "+1" {
			t.Errorf("emoji in path = %q, want +1", got)
		}
		writeJSON(w, 200, statusOK{"OK"})
	})
	if _, _, err := c.AddReaction(t.Context(), "p1", "+1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveReaction(t.Context(), "p1", ":+1:"); err != nil {
		t.Fatal(err)
	}
	if me != 1 {
		t.Errorf("GET /users/me calls = %d, want 1", me)
	}
}

func TestReactionsSelfUnknown(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 401, "api.context.session_expired.app_error")
	})
	if _, _, err := c.AddReaction(t.Context(), "p1", "x"); !isClass(err, ErrUnauthorized) {
		t.Errorf("AddReaction() = %v, want ErrUnauthorized", err)
	}
	if _, err := c.RemoveReaction(t.Context(), "p1", "x"); !isClass(err, ErrUnauthorized) {
		t.Errorf("RemoveReaction() = %v, want ErrUnauthorized", err)
	}
}
