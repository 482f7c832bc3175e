package mattermost

import (
	"context"
	"net/http"
)

// Ping checks that the server is up and returns the "status" it reports
// ("OK"). It needs no token and never logs in.
// https://developers.mattermost.com/api-documentation/#/operations/GetPing
func (c *Client) Ping(ctx context.Context) (string, *Response, error) {
	var out struct {
		Status string `json:"status"`
	}
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/system/ping", route: "/api/v4/system/ping", idempotent: true, anonymous: true, identify: true}, &out)
	if err != nil {
		return "", r, err
	}
	return out.Status, r, nil
}
