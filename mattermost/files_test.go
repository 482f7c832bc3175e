package mattermost

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const reportFile = "f9srhq8qipgouctf4qqm61x5ie"

// uploadHandler checks a multipart upload the way the server reads it:
// channel_id first, then one "files" part; it answers the recorded upload.
func uploadHandler(t *testing.T, wantChannel, wantName, wantContent string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		testHeader(t, r, "Authorization", "Bearer "+string(testToken))
		mr, err := r.MultipartReader()
		if err != nil {
			t.Errorf("MultipartReader: %v", err)
			return
		}
		var parts []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("NextPart: %v", err)
				return
			}
			b, _ := io.ReadAll(p)
			parts = append(parts, p.FormName())
			switch p.FormName() {
			case "channel_id":
				if string(b) != wantChannel {
					t.Errorf("channel_id = %q, want %q", b, wantChannel)
				}
			case "files":
				if p.FileName() != wantName || string(b) != wantContent {
					t.Errorf("file %q = %q, want %q = %q", p.FileName(), b, wantName, wantContent)
				}
				if ct := p.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("file Content-Type = %q", ct)
				}
			}
		}
		if diff := cmp.Diff([]string{"channel_id", "files"}, parts); diff != "" {
			t.Errorf("parts mismatch (-want +got):\n%s", diff)
		}
		writeRecorded(w, loadRecorded(t, "files_upload.json"))
	}
}

func TestUploadFile(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /api/v4/files", uploadHandler(t, opsChannel, "report.txt", "hello file\n"))
	fi, resp, err := c.UploadFile(t.Context(), opsChannel, "report.txt", strings.NewReader("hello file\n"))
	if err != nil {
		t.Fatalf("UploadFile() error = %v", err)
	}
	want := recordedBody[FileUploadResponse](t, "files_upload.json").FileInfos[0]
	if diff := cmp.Diff(want, fi); diff != "" {
		t.Errorf("UploadFile() mismatch (-want +got):\n%s", diff)
	}
	if resp.StatusCode != 201 {
		t.Errorf("status = %d, want 201", resp.StatusCode)
	}
}

// TestUploadFileStreams: the body is streamed, not buffered, so a reader
// larger than any buffer arrives whole.
func TestUploadFileStreams(t *testing.T) {
	c, mux, _ := setup(t, nil)
	const size = 8 << 20
	mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != -1 {
			t.Errorf("ContentLength = %d, want -1 (streamed)", r.ContentLength)
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			t.Errorf("ParseMultipartForm: %v", err)
			return
		}
		defer r.MultipartForm.RemoveAll()
		fh := r.MultipartForm.File["files"]
		if len(fh) != 1 || fh[0].Size != size {
			t.Errorf("files = %v, want one of %d bytes", fh, size)
		}
		writeJSON(w, 201, &FileUploadResponse{FileInfos: []*FileInfo{{ID: "f1", Size: fh[0].Size}}, ClientIDs: []string{}})
	})
	fi, _, err := c.UploadFile(t.Context(), "c1", "big.bin", io.LimitReader(zeros{}, size))
	if err != nil || fi.Size != size {
		t.Fatalf("UploadFile() = %v, %v", fi, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(f.n, len(p))
	f.n -= n
	return n, nil
}

func TestUploadFileErrors(t *testing.T) {
	t.Run("empty name", func(t *testing.T) {
		c, _, _ := setup(t, nil)
		if _, _, err := c.UploadFile(t.Context(), "c", "", strings.NewReader("x")); err == nil {
			t.Error("UploadFile with no name = nil error")
		}
		if _, _, err := c.UploadFile(t.Context(), "c", "a", nil); err == nil {
			t.Error("UploadFile with a nil reader = nil error")
		}
	})
	t.Run("reader fails", func(t *testing.T) {
		c, mux, _ := setup(t, nil)
		mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeAppError(w, 400, "api.file.upload_file.bad_parse.app_error")
		})
		_, _, err := c.UploadFile(t.Context(), "c", "a.txt", &failingReader{n: 100})
		if err == nil {
			t.Fatal("UploadFile with a failing reader = nil error")
		}
	})
	t.Run("too large answered early", func(t *testing.T) {
		c, mux, _ := setup(t, nil)
		mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
			writeAppError(w, http.StatusRequestEntityTooLarge, "api.file.upload_file.too_large_detailed.app_error")
		})
		_, _, err := c.UploadFile(t.Context(), "c", "a.bin", io.LimitReader(zeros{}, 64<<20))
		if err == nil {
			t.Fatal("UploadFile answered 413 = nil error")
		}
		// The writer goroutine must be gone: TestMain's goleak checks it.
	})
	t.Run("5xx not retried", func(t *testing.T) {
		c, mux, sl := setup(t, nil)
		var n atomic.Int32
		mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			writeAppError(w, 503, "x")
		})
		if _, _, err := c.UploadFile(t.Context(), "c", "a.txt", strings.NewReader("x")); !isClass(err, ErrServer) {
			t.Errorf("UploadFile() = %v, want ErrServer", err)
		}
		if n.Load() != 1 || len(sl.waits()) != 0 {
			t.Errorf("requests = %d, waits = %v; want 1 and none", n.Load(), sl.waits())
		}
	})
	t.Run("401 logs in but cannot resend", func(t *testing.T) {
		c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
		c.SetToken("stale")
		mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Token", "fresh")
			writeJSON(w, 200, &User{ID: alice})
		})
		var n atomic.Int32
		mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			writeAppError(w, 401, "api.context.session_expired.app_error")
		})
		if _, _, err := c.UploadFile(t.Context(), "c", "a.txt", strings.NewReader("x")); !isClass(err, ErrUnauthorized) {
			t.Errorf("UploadFile() = %v, want ErrUnauthorized", err)
		}
		if n.Load() != 1 || c.Token() != "fresh" {
			t.Errorf("requests = %d, token %q; want 1 and the fresh token for the next call", n.Load(), string(c.Token()))
		}
	})
	t.Run("no file infos", func(t *testing.T) {
		c, mux, _ := setup(t, nil)
		mux.HandleFunc("POST /api/v4/files", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeJSON(w, 201, &FileUploadResponse{})
		})
		if _, _, err := c.UploadFile(t.Context(), "c", "a.txt", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "no file_infos") {
			t.Errorf("UploadFile() = %v, want a no-file_infos error", err)
		}
	})
}

func TestDownloadFile(t *testing.T) {
	c, mux, _ := setup(t, nil)
	rec := loadRecorded(t, "files_get.json")
	mux.HandleFunc("GET /api/v4/files/"+reportFile, func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer "+string(testToken))
		writeRecorded(w, rec)
	})
	body, resp, err := c.DownloadFile(t.Context(), reportFile)
	if err != nil {
		t.Fatalf("DownloadFile() error = %v", err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil || string(b) != "hello file\n" {
		t.Errorf("content = %q, %v; want %q", b, err, "hello file\n")
	}
	if got := resp.Header.Get("Content-Disposition"); got != rec.Response.Headers["Content-Disposition"] {
		t.Errorf("Content-Disposition = %q", got)
	}
}

func TestDownloadFileErrors(t *testing.T) {
	c, mux, sl := setup(t, nil)
	var n atomic.Int32
	mux.HandleFunc("GET /api/v4/files/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "gone" {
			writeAppError(w, 404, "app.file_info.get.app_error")
			return
		}
		if n.Add(1) == 1 {
			writeAppError(w, 502, "") // retried: a GET
			return
		}
		_, _ = io.WriteString(w, "data")
	})
	if body, _, err := c.DownloadFile(t.Context(), "gone"); !isClass(err, ErrNotFound) || body != nil {
		t.Errorf("DownloadFile(gone) = %v, %v; want nil, ErrNotFound", body, err)
	}
	body, _, err := c.DownloadFile(t.Context(), "f1")
	if err != nil {
		t.Fatalf("DownloadFile() after a 502 = %v", err)
	}
	b, _ := io.ReadAll(body)
	_ = body.Close()
	if string(b) != "data" || len(sl.waits()) != 1 {
		t.Errorf("content %q after waits %v, want data after one", b, sl.waits())
	}
}

func TestFilesRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "FileInfo", file: "files_info.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.FileInfo(ctx, reportFile))
		}},
	})
}

func TestPostFileInfos(t *testing.T) {
	c, mux, _ := setup(t, nil)
	want := []*FileInfo{recordedBody[*FileInfo](t, "files_info.json")}
	mux.HandleFunc("GET /api/v4/posts/p1/files/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, want)
	})
	got, _, err := c.PostFileInfos(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PostFileInfos() mismatch (-want +got):\n%s", diff)
	}
}

// Ensure the context reaches a download in progress.
func TestDownloadFileContext(t *testing.T) {
	c, mux, _ := setup(t, nil)
	release := make(chan struct{})
	mux.HandleFunc("GET /api/v4/files/slow", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "part")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	body, _, err := c.DownloadFile(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(body); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel = %v, want context.Canceled", err)
	}
	close(release)
}
