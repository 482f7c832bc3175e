package mattermost

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const opsChannel = "eofczhjqg7d4pd5iz5pcjmmjfo"

func TestChannelsRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "Channel", file: "channel_by_team_and_name.json", path: "/channels/" + opsChannel, method: http.MethodGet, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Channel(ctx, opsChannel))
		}},
		{name: "ChannelByName", file: "channel_by_team_and_name.json", path: "/teams/" + testTeam + "/channels/name/ops", method: http.MethodGet,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.ChannelByName(ctx, testTeam, "ops"))
			}},
		{name: "ChannelByTeamNameAndName", file: "channel_by_team_and_name.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.ChannelByTeamNameAndName(ctx, "testteam", "ops"))
		}},
		{name: "ChannelByTeamNameAndName unknown", file: "channel_by_name_unknown.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.ChannelByTeamNameAndName(ctx, "testteam", "nosuchchannel"))
		}},
		{name: "MyChannels", file: "users_my_channels.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.MyChannels(ctx, testTeam))
		}},
		{name: "CreateChannel public", file: "channel_create_public.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateChannel(ctx, &Channel{TeamID: testTeam, Name: "pub-2bb163d2", DisplayName: "Pub", Type: ChannelOpen}))
		}},
		{name: "CreateChannel private", file: "channel_create_private.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			rec := loadRecorded(t, "channel_create_private.json")
			var in Channel
			if err := jsonUnmarshal(rec.Request.Body, &in); err != nil {
				return nil, nil, err
			}
			return wrap(c.CreateChannel(ctx, &in))
		}},
		{name: "SetChannelHeader", file: "channel_patch.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.SetChannelHeader(ctx, opsChannel, "ops header"))
		}},
		{name: "SetChannelPurpose", file: "channel_patch.json", wantBody: map[string]any{"purpose": "why"}, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.SetChannelPurpose(ctx, opsChannel, "why"))
		}},
		{name: "CreateDirectChannel", file: "channel_direct.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateDirectChannel(ctx, bob, alice))
		}},
		{name: "CreateGroupChannel", file: "channel_group.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateGroupChannel(ctx, []string{alice, bob, "ky11cff8hbnqpqyn486m1u1mth"}))
		}},
		{name: "ChannelMember me", file: "channel_members_me.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.ChannelMember(ctx, opsChannel, "me"))
		}},
		{name: "AddChannelMember", file: "channel_member_add.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.AddChannelMember(ctx, "188iztdi8fg6pytd39mjid798c", alice))
		}},
		{name: "RemoveChannelMember", file: "channel_member_remove.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			r, err := c.RemoveChannelMember(ctx, "188iztdi8fg6pytd39mjid798c", alice)
			return nil, r, err
		}},
	})
}

func TestPatchChannelFields(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("PUT /api/v4/channels/"+opsChannel+"/patch", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"display_name": "Ops", "header": ""})
		writeJSON(w, 200, &Channel{ID: opsChannel, DisplayName: "Ops"})
	})
	name, empty := "Ops", ""
	ch, _, err := c.PatchChannel(t.Context(), opsChannel, &ChannelPatch{DisplayName: &name, Header: &empty})
	if err != nil || ch.DisplayName != "Ops" {
		t.Errorf("PatchChannel() = %v, %v", ch, err)
	}
}

func TestChannelNilArguments(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("PUT /api/v4/channels/c1/patch", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{})
		writeJSON(w, 200, &Channel{ID: "c1"})
	})
	mux.HandleFunc("POST /api/v4/channels/group", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, []any{})
		writeAppError(w, 400, "api.context.invalid_body_param.app_error")
	})
	if _, _, err := c.CreateChannel(t.Context(), nil); err == nil {
		t.Error("CreateChannel(nil) = nil error")
	}
	if _, _, err := c.PatchChannel(t.Context(), "c1", nil); err != nil {
		t.Errorf("PatchChannel(nil patch) = %v", err)
	}
	if _, _, err := c.CreateGroupChannel(t.Context(), nil); !isClass(err, ErrBadRequest) {
		t.Errorf("CreateGroupChannel(nil) = %v, want the server's 400", err)
	}
}

func isClass(err, class error) bool {
	got := classOf(err)
	return len(got) == 1 && got[0] == class
}

func TestChannelMembers(t *testing.T) {
	c, mux, _ := setup(t, nil)
	// A page of GET /channels/{id}/members is an array of the membership
	// the recorded GET /channels/{id}/members/me answers.
	rec := loadRecorded(t, "channel_members_me.json")
	member := string(rec.Response.Body)
	mux.HandleFunc("GET /api/v4/channels/"+opsChannel+"/members", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.URL.RawQuery, "page=1&per_page=2"; got != want {
			t.Errorf("query = %q, want %q", got, want)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "["+member+"]")
	})
	mux.HandleFunc("GET /api/v4/channels/private1/members", func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 403, "api.context.permissions.app_error")
	})
	ms, _, err := c.ChannelMembers(t.Context(), opsChannel, 1, 2)
	if err != nil {
		t.Fatalf("ChannelMembers() error = %v", err)
	}
	if len(ms) != 1 || ms[0].UserID != "t7boqukfst88jmcu3mgp8jtrme" || ms[0].ChannelID != opsChannel {
		t.Errorf("ChannelMembers() = %+v, want the recorded membership", ms)
	}
	if _, _, err := c.ChannelMembers(t.Context(), "private1", 0, 0); !isClass(err, ErrForbidden) {
		t.Errorf("ChannelMembers(private, not a member) error = %v, want ErrForbidden", err)
	}
}

// TestAllMyChannels: GET /users/me/channels as servers since 6.1 answer
// it (api4/channel.go getChannelsForUser streams the list), and as 5.x
// answers it (the unknown route's 404).
func TestAllMyChannels(t *testing.T) {
	const dm = `{"id":"5g5stom4x3f8ikrcy6huy6wpnw","type":"D","team_id":"","name":"a__b"}`
	notFound := `{"id":"app.channel.get_channels.not_found.app_error","message":"No channels were found.","detailed_error":"","request_id":"x","status_code":404}`
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		wantIDs []string
		wantErr error // nil: no error; errAny: any error
	}{
		{"list", 200, "[" + dm + ",\n" + `{"id":"q3k36jcewi8e3ymftf4xc1g9wo","type":"O","team_id":"g4abhgi4hfb3xqdwp4ixd58t4r"}` + "]", []string{"5g5stom4x3f8ikrcy6huy6wpnw", "q3k36jcewi8e3ymftf4xc1g9wo"}, nil},
		{"no channel: the streamed not-found error", 200, "[" + notFound + "\n", []string{}, nil},
		{"broken mid-stream", 200, "[" + dm + ",", nil, errAny},
		{"server before 6.1", 404, `{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","detailed_error":"","status_code":404}`, nil, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("/api/v4/users/me/channels", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, http.MethodGet)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			chs, _, err := c.AllMyChannels(t.Context())
			switch {
			case tc.wantErr == errAny && err == nil:
				t.Fatalf("AllMyChannels() = %v, nil; want an error", chs)
			case tc.wantErr == errAny:
				return
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("AllMyChannels() error = %v, want %v", err, tc.wantErr)
			case tc.wantErr != nil:
				return
			case err != nil:
				t.Fatalf("AllMyChannels(): %v", err)
			}
			ids := []string{}
			for _, ch := range chs {
				ids = append(ids, ch.ID)
			}
			if diff := cmp.Diff(tc.wantIDs, ids); diff != "" {
				t.Errorf("AllMyChannels() ids (-want +got):\n%s", diff)
			}
			// The same, one channel at a time.
			ids = []string{}
			_, err = c.AllMyChannelsFunc(t.Context(), func(ch *Channel) { ids = append(ids, ch.ID) })
			if err != nil {
				t.Fatalf("AllMyChannelsFunc(): %v", err)
			}
			if diff := cmp.Diff(tc.wantIDs, ids); diff != "" {
				t.Errorf("AllMyChannelsFunc() ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMyChannelsFunc: each channel of the answer reaches f, decoded
// whole and alone (no field of the one before left over); a broken
// answer is an error.
func TestMyChannelsFunc(t *testing.T) {
	c, mux, _ := setup(t, nil)
	body := `[{"id":"q3k36jcewi8e3ymftf4xc1g9wo","type":"O","team_id":"g4abhgi4hfb3xqdwp4ixd58t4r","name":"ops","header":"h","last_post_at":42},` +
		`{"id":"5g5stom4x3f8ikrcy6huy6wpnw","type":"D","name":"a__b"}]`
	mux.HandleFunc("/api/v4/users/me/teams/g4abhgi4hfb3xqdwp4ixd58t4r/channels", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	var got []Channel
	if _, err := c.MyChannelsFunc(t.Context(), "g4abhgi4hfb3xqdwp4ixd58t4r", func(ch *Channel) { got = append(got, *ch) }); err != nil {
		t.Fatal(err)
	}
	want := []Channel{
		{ID: "q3k36jcewi8e3ymftf4xc1g9wo", Type: "O", TeamID: "g4abhgi4hfb3xqdwp4ixd58t4r", Name: "ops", Header: "h", LastPostAt: 42},
		{ID: "5g5stom4x3f8ikrcy6huy6wpnw", Type: "D", Name: "a__b"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MyChannelsFunc channels (-want +got):\n%s", diff)
	}
	body = `[{"id":"q3k36jcewi8e3ymftf4xc1g9wo"},`
	if _, err := c.MyChannelsFunc(t.Context(), "g4abhgi4hfb3xqdwp4ixd58t4r", func(*Channel) {}); err == nil {
		t.Error("MyChannelsFunc of a broken answer: nil error, want one")
	}
}

// FuzzEachChannel: any body decodes to channels or an error, never a
// panic.
func FuzzEachChannel(f *testing.F) {
	f.Add([]byte(`[{"id":"5g5stom4x3f8ikrcy6huy6wpnw","type":"D"}]`))
	f.Add([]byte(`[{"id":"x"},`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = eachChannel(bytes.NewReader(b), func(*Channel) {})
	})
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

// FuzzDecodeStreamedChannels: any body decodes to channels or an error,
// never a panic.
func FuzzDecodeStreamedChannels(f *testing.F) {
	f.Add([]byte(`[{"id":"5g5stom4x3f8ikrcy6huy6wpnw","type":"D"}]`))
	f.Add([]byte(`[{"id":"app.channel.get_channels.not_found.app_error","status_code":404}`))
	f.Add([]byte(`[{"id":"x"},`))
	f.Add([]byte(`[`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		chs, err := decodeStreamedChannels(b)
		if err == nil && chs == nil {
			t.Errorf("decodeStreamedChannels(%q) = nil, nil", b)
		}
	})
}
