package mattermost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// createFromRecording sends the post of a recorded POST /posts request.
func createFromRecording(t *testing.T, file string) func(ctx context.Context, c *Client) (any, *Response, error) {
	return func(ctx context.Context, c *Client) (any, *Response, error) {
		var in Post
		if err := json.Unmarshal(loadRecorded(t, file).Request.Body, &in); err != nil {
			t.Fatal(err)
		}
		return wrap(c.CreatePost(ctx, &in))
	}
}

func TestPostsRecorded(t *testing.T) {
	var tests []recordedCase
	for _, file := range []string{
		"post_create.json", "post_create_dm.json", "post_create_in_thread.json", "post_with_file.json",
		"post_as_bot_with_attachment.json", "post_max_len_ok.json", "post_too_long.json", "post_root_unknown.json",
		"post_not_member_private.json",
	} {
		// The client adds a pending_post_id; TestCreatePostPendingID checks it.
		tests = append(tests, recordedCase{name: "CreatePost " + file, file: file, ignore: []string{"pending_post_id"},
			call: createFromRecording(t, file)})
	}
	tests = append(tests,
		recordedCase{name: "CreatePost pending id kept", file: "post_pending_first.json", call: createFromRecording(t, "post_pending_first.json")},
		recordedCase{name: "CreatePost pending id again", file: "post_pending_second.json", call: createFromRecording(t, "post_pending_second.json")},
		recordedCase{name: "CreateEphemeralPost", file: "post_ephemeral_as_admin.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateEphemeralPost(ctx, alice, &Post{ChannelID: opsChannel, Message: "only you", PendingPostID: "dropped"}))
		}},
		recordedCase{name: "CreateEphemeralPost forbidden", file: "post_ephemeral_as_bot.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			var in struct {
				UserID string `json:"user_id"`
				Post   Post   `json:"post"`
			}
			if err := json.Unmarshal(loadRecorded(t, "post_ephemeral_as_bot.json").Request.Body, &in); err != nil {
				t.Fatal(err)
			}
			return wrap(c.CreateEphemeralPost(ctx, in.UserID, &in.Post))
		}},
		recordedCase{name: "Post", file: "post_create.json", path: "/posts/g77s5139uin4tcxikynebsumua", method: http.MethodGet,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Post(ctx, "g77s5139uin4tcxikynebsumua"))
			}},
		recordedCase{name: "EditPost", file: "post_patch.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.EditPost(ctx, "g77s5139uin4tcxikynebsumua", "edited"))
		}},
		recordedCase{name: "DeletePost", file: "post_delete.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			r, err := c.DeletePost(ctx, "g77s5139uin4tcxikynebsumua")
			return nil, r, err
		}},
		recordedCase{name: "PostThread", file: "post_thread.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.PostThread(ctx, "7ky7uqpxuidstmodde7rrpro6o"))
		}},
		recordedCase{name: "ChannelPosts", file: "channel_posts_page.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.ChannelPosts(ctx, opsChannel, 0, 2))
		}},
		recordedCase{name: "ChannelPostsSince", file: "channel_posts_since.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.ChannelPostsSince(ctx, opsChannel, 1795686481178))
		}},
	)
	runRecorded(t, tests)
}

func TestChannelPostsQueries(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) (*PostList, *Response, error)
		want url.Values
	}{
		{"page defaults", func(ctx context.Context, c *Client) (*PostList, *Response, error) {
			return c.ChannelPosts(ctx, "c1", 0, 0)
		}, url.Values{"page": {"0"}}},
		{"page 3 of 200", func(ctx context.Context, c *Client) (*PostList, *Response, error) {
			return c.ChannelPosts(ctx, "c1", 3, 200)
		}, url.Values{"page": {"3"}, "per_page": {"200"}}},
		{"negative page", func(ctx context.Context, c *Client) (*PostList, *Response, error) {
			return c.ChannelPosts(ctx, "c1", -1, 0)
		}, url.Values{"page": {"0"}}},
		{"after", func(ctx context.Context, c *Client) (*PostList, *Response, error) {
			return c.ChannelPostsAfter(ctx, "c1", "p1", 0, 50)
		}, url.Values{"after": {"p1"}, "page": {"0"}, "per_page": {"50"}}},
		{"before", func(ctx context.Context, c *Client) (*PostList, *Response, error) {
			return c.ChannelPostsBefore(ctx, "c1", "p1", 1, 0)
		}, url.Values{"before": {"p1"}, "page": {"1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET /api/v4/channels/c1/posts", func(w http.ResponseWriter, r *http.Request) {
				testQuery(t, r, tc.want)
				writeJSON(w, 200, &PostList{Order: []string{}, Posts: map[string]*Post{}})
			})
			l, _, err := tc.call(t.Context(), c)
			if err != nil || l == nil {
				t.Fatalf("call = %v, %v", l, err)
			}
		})
	}
}

// TestCreatePostPendingID: an empty pending_post_id is filled with
// "<user_id>:<ms>", a given one is kept, and the caller's post is not
// modified.
func TestCreatePostPendingID(t *testing.T) {
	c, mux, _ := setup(t, nil)
	var got []string
	mux.HandleFunc("POST /api/v4/posts", func(w http.ResponseWriter, r *http.Request) {
		var in Post
		_ = json.NewDecoder(r.Body).Decode(&in)
		got = append(got, in.PendingPostID)
		writeJSON(w, 201, &in)
	})
	p := &Post{ChannelID: opsChannel, Message: "hi"}
	if _, _, err := c.CreatePost(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	c.setUserID(alice)
	if _, _, err := c.CreatePost(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CreatePost(t.Context(), &Post{ChannelID: opsChannel, PendingPostID: "mine"}); err != nil {
		t.Fatal(err)
	}
	if p.PendingPostID != "" {
		t.Errorf("CreatePost modified the caller's post: pending_post_id %q", p.PendingPostID)
	}
	if len(got) != 3 || !IsValidID(got[0]) || !strings.HasPrefix(got[1], alice+":") || got[2] != "mine" {
		t.Errorf("pending_post_ids = %q, want [<fresh id> %s:<ms> mine]", got, alice)
	}
}

func TestCreatePostBody(t *testing.T) {
	c, mux, _ := setup(t, nil)
	atts := []*Attachment{{Fallback: "f", Title: "t", Fields: []*AttachmentField{{Title: "k", Value: "v", Short: true}}}}
	mux.HandleFunc("POST /api/v4/posts", func(w http.ResponseWriter, r *http.Request) {
		var raw map[string]json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&raw)
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		want := []string{"channel_id", "file_ids", "message", "pending_post_id", "props", "root_id"}
		if diff := cmp.Diff(want, keys, cmpSorted); diff != "" {
			t.Errorf("request keys mismatch (-want +got):\n%s", diff)
		}
		writeJSON(w, 201, &Post{ID: "p1", Props: map[string]any{}})
	})
	_, _, err := c.CreatePost(t.Context(), &Post{ID: "ignored", CreateAt: 5, ChannelID: "c", RootID: "r", FileIDs: []string{"f1"},
		Props: map[string]any{"attachments": atts}, Message: "m", UserID: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPatchPost(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("PUT /api/v4/posts/p1/patch", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"is_pinned": true, "props": map[string]any{"a": "b"}})
		writeJSON(w, 200, &Post{ID: "p1", IsPinned: true})
	})
	pin, props := true, map[string]any{"a": "b"}
	p, _, err := c.PatchPost(t.Context(), "p1", &PostPatch{IsPinned: &pin, Props: &props})
	if err != nil || !p.IsPinned {
		t.Errorf("PatchPost() = %v, %v", p, err)
	}
	mux.HandleFunc("PUT /api/v4/posts/p2/patch", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{})
		writeJSON(w, 200, &Post{ID: "p2"})
	})
	if _, _, err := c.PatchPost(t.Context(), "p2", nil); err != nil {
		t.Errorf("PatchPost(nil) = %v", err)
	}
}

func TestNilPost(t *testing.T) {
	c, _, _ := setup(t, nil)
	if _, _, err := c.CreatePost(t.Context(), nil); err == nil {
		t.Error("CreatePost(nil) = nil error")
	}
	if _, _, err := c.CreateEphemeralPost(t.Context(), "u", nil); err == nil {
		t.Error("CreateEphemeralPost(nil) = nil error")
	}
}

// BenchmarkCreatePost measures one reply going out: encode, send over
// loopback HTTP, classify, decode the recorded answer.
func BenchmarkCreatePost(b *testing.B) {
	body := loadRecorded(b, "post_create.json").Response.Body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "t", nil)
	if err != nil {
		b.Fatal(err)
	}
	c.setUserID(alice)
	p := &Post{ChannelID: opsChannel, Message: "hello @alice ~ops", RootID: "g77s5139uin4tcxikynebsumua"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.CreatePost(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
