package mattermost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
)

var errUploadDone = errors.New("mattermost: upload finished")

// UploadFile uploads one file to a channel and returns its FileInfo; attach
// it to a post by passing FileInfo.ID in Post.FileIDs. The content is
// streamed from r (read once, not closed) as a multipart body, so a large
// file is never held in memory; for the same reason the call is not
// retried. The server refuses files above its MaxFileSize (default 100 MiB)
// with 413.
// https://developers.mattermost.com/api-documentation/#/operations/UploadFile
func (c *Client) UploadFile(ctx context.Context, channelID, name string, r io.Reader) (*FileInfo, *Response, error) {
	if name == "" {
		return nil, nil, errors.New("mattermost: upload file: empty file name")
	}
	if r == nil {
		return nil, nil, fmt.Errorf("mattermost: upload file %q: nil reader", name)
	}
	upload := func() (io.ReadCloser, string, func(), error) {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		done := make(chan struct{})
		go func() {
			defer close(done)
			// A nil error closes the pipe with io.EOF: the body is complete.
			_ = pw.CloseWithError(writeUpload(mw, channelID, name, r))
		}()
		finish := func() {
			// Unblocks the writer if the transport stopped reading early
			// (an error answer), then waits for it: no goroutine outlives
			// the call.
			_ = pr.CloseWithError(errUploadDone)
			<-done
		}
		return pr, mw.FormDataContentType(), finish, nil
	}
	var out FileUploadResponse
	resp, err := c.do(ctx, &request{method: http.MethodPost, path: "/files", route: "/api/v4/files", upload: upload}, &out)
	if err != nil {
		return nil, resp, err
	}
	if len(out.FileInfos) == 0 || out.FileInfos[0] == nil {
		return nil, resp, fmt.Errorf("mattermost: upload file %q: answer has no file_infos", name)
	}
	return out.FileInfos[0], resp, nil
}

// writeUpload writes the form: channel_id first (the server reads it
// before the file parts), then the file as part "files".
func writeUpload(mw *multipart.Writer, channelID, name string, r io.Reader) error {
	if err := mw.WriteField("channel_id", channelID); err != nil {
		return err
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "files", "filename": name}))
	ct := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, r); err != nil {
		return fmt.Errorf("read file %q: %w", name, err)
	}
	return mw.Close()
}

// DownloadFile returns the content of a file. The caller must close the
// returned ReadCloser; the *Response carries its Content-Type and
// Content-Disposition. ClientOptions.Timeout bounds only the wait for the
// answer's headers; ctx bounds the whole download.
// https://developers.mattermost.com/api-documentation/#/operations/GetFile
func (c *Client) DownloadFile(ctx context.Context, fileID string) (io.ReadCloser, *Response, error) {
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/files/" + pathEscape(fileID), route: "/api/v4/files/{file_id}", idempotent: true, stream: true}, nil)
	if err != nil {
		return nil, r, err
	}
	return r.Body, r, nil
}

// FileInfo returns the metadata of a file.
// https://developers.mattermost.com/api-documentation/#/operations/GetFileInfo
func (c *Client) FileInfo(ctx context.Context, fileID string) (*FileInfo, *Response, error) {
	fi := new(FileInfo)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/files/" + pathEscape(fileID) + "/info", route: "/api/v4/files/{file_id}/info", idempotent: true}, fi)
	if err != nil {
		return nil, r, err
	}
	return fi, r, nil
}

// PostFileInfos returns the metadata of the files attached to a post.
// https://developers.mattermost.com/api-documentation/#/operations/GetFileInfosForPost
func (c *Client) PostFileInfos(ctx context.Context, postID string) ([]*FileInfo, *Response, error) {
	var fis []*FileInfo
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/posts/" + pathEscape(postID) + "/files/info", route: "/api/v4/posts/{post_id}/files/info", idempotent: true}, &fis)
	if err != nil {
		return nil, r, err
	}
	return fis, r, nil
}
