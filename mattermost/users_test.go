package mattermost

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
)

const (
	alice = "t7boqukfst88jmcu3mgp8jtrme"
	bob   = "tyer6idrmintxmut89i49pydjh"
)

func TestUsersRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "Me", file: "users_me.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Me(ctx))
		}},
		{name: "Me bot", file: "bot_users_me.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Me(ctx))
		}},
		{name: "Me bad token", file: "users_me_bad_token.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Me(ctx))
		}},
		{name: "User", file: "users_me.json", path: "/users/" + alice, method: http.MethodGet, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.User(ctx, alice))
		}},
		{name: "UserByUsername", file: "users_me.json", path: "/users/username/alice", method: http.MethodGet, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.UserByUsername(ctx, "alice"))
		}},
		{name: "UserByUsername unknown", file: "users_username_unknown.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.UserByUsername(ctx, "nosuchuser"))
		}},
		{name: "UsersByIDs", file: "users_ids.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.UsersByIDs(ctx, []string{alice, bob}))
		}},
		{name: "UserStatus", file: "users_status.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.UserStatus(ctx, alice))
		}},
		{name: "UserStatuses", file: "users_status_ids.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.UserStatuses(ctx, []string{alice, bob}))
		}},
		{name: "Typing", file: "typing_rest.json", before: func(c *Client) { c.setUserID(bob) }, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			r, err := c.Typing(ctx, "eofczhjqg7d4pd5iz5pcjmmjfo", "")
			return nil, r, err
		}},
		{name: "Login", file: "login_ok.json", wantBody: map[string]any{"login_id": "alice", "password": "secret"},
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				u, r, err := c.Login(ctx, "alice", "secret", "")
				if err == nil && (c.Token() != "kbwy6jfd738jzb4ium88qiq94r" || c.UserID() != alice) {
					return nil, r, errorf("after Login: token %q, user id %q", string(c.Token()), c.UserID())
				}
				return u, r, err
			}},
		{name: "Login bad password", file: "login_bad_password.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Login(ctx, "alice", "wrong", ""))
		}},
	})
}

// wrap turns a typed (T, *Response, error) into the untyped form the
// recorded tests compare.
func wrap[T any](v T, r *Response, err error) (any, *Response, error) { return v, r, err }

func TestLogout(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /api/v4/users/logout", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer "+string(testToken))
		writeJSON(w, 200, statusOK{"OK"})
	})
	if _, err := c.Logout(t.Context()); err != nil {
		t.Fatalf("Logout() error = %v", err)
	}
	if c.Token() != "" {
		t.Errorf("Token() after Logout = %q, want empty", string(c.Token()))
	}
}

// TestTypingFindsSelf: without a known user id, Typing asks /users/me once.
func TestTypingFindsSelf(t *testing.T) {
	c, mux, _ := setup(t, nil)
	var me atomic.Int32
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		me.Add(1)
		writeRecorded(w, loadRecorded(t, "users_me.json"))
	})
	mux.HandleFunc("POST /api/v4/users/"+alice+"/typing", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"channel_id": "c1", "parent_id": "root1"})
		writeJSON(w, 200, statusOK{"OK"})
	})
	for range 2 {
		if _, err := c.Typing(t.Context(), "c1", "root1"); err != nil {
			t.Fatalf("Typing() error = %v", err)
		}
	}
	if me.Load() != 1 {
		t.Errorf("GET /users/me calls = %d, want 1", me.Load())
	}
}

func TestTypingSelfUnknown(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeRecorded(w, loadRecorded(t, "users_me_no_token.json"))
	})
	if _, err := c.Typing(t.Context(), "c1", ""); err == nil {
		t.Error("Typing() without a known user = nil error")
	}
}

func TestUsersByIDsNil(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /api/v4/users/ids", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, []any{})
		writeJSON(w, 200, []*User{})
	})
	mux.HandleFunc("POST /api/v4/users/status/ids", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, []any{})
		writeJSON(w, 200, []*Status{})
	})
	if us, _, err := c.UsersByIDs(t.Context(), nil); err != nil || len(us) != 0 {
		t.Errorf("UsersByIDs(nil) = %v, %v", us, err)
	}
	if ss, _, err := c.UserStatuses(t.Context(), nil); err != nil || len(ss) != 0 {
		t.Errorf("UserStatuses(nil) = %v, %v", ss, err)
	}
}
