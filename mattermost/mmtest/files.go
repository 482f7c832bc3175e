package mmtest

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// uploadFiles is POST /files (api4/file.go uploadFileStream): multipart
// with channel_id, files and client_ids parts, or a raw body with
// ?channel_id=&filename=. Answers 201 with file_infos and client_ids.
func (q *request) uploadFiles() {
	type upload struct {
		name string
		data []byte
	}
	var ups []upload
	var clientIDs []string
	channelID := q.r.URL.Query().Get("channel_id")
	s := q.s
	ct, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr, err := q.r.MultipartReader()
		if err != nil {
			q.failParam("multipart")
			return
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				q.failParam("multipart")
				return
			}
			switch part.FormName() {
			case "channel_id":
				b, _ := io.ReadAll(io.LimitReader(part, 64))
				channelID = string(b)
			case "client_ids":
				b, _ := io.ReadAll(io.LimitReader(part, 256))
				clientIDs = append(clientIDs, string(b))
			case "files":
				b, err := io.ReadAll(io.LimitReader(part, s.maxFile+1))
				if err != nil {
					q.failParam("files")
					return
				}
				if int64(len(b)) > s.maxFile {
					q.fail(apiError(http.StatusRequestEntityTooLarge, "api.file.upload_file.too_large_detailed.app_error", part.FileName()))
					return
				}
				ups = append(ups, upload{name: part.FileName(), data: b})
			}
		}
	} else {
		name := q.r.URL.Query().Get("filename")
		if name == "" {
			q.failParam("filename")
			return
		}
		b, err := io.ReadAll(io.LimitReader(q.r.Body, s.maxFile+1))
		if err != nil {
			q.failParam("file")
			return
		}
		if int64(len(b)) > s.maxFile {
			q.fail(apiError(http.StatusRequestEntityTooLarge, "api.file.upload_file.too_large_detailed.app_error", name))
			return
		}
		ups = append(ups, upload{name: name, data: b})
	}
	if !mattermost.IsValidID(channelID) {
		q.failParam("channel_id")
		return
	}
	if len(ups) == 0 || len(clientIDs) > 0 && len(clientIDs) != len(ups) {
		q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.incorrect_number_of_files.app_error", ""))
		return
	}
	q.locked(http.StatusCreated, func(*[]event) (any, *mattermost.APIError) {
		ch := s.st.channels[channelID]
		if ch == nil || !s.st.isChannelMember(ch.ID, q.sess.userID) && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		resp := mattermost.FileUploadResponse{FileInfos: []*mattermost.FileInfo{}, ClientIDs: []string{}}
		if len(clientIDs) > 0 {
			resp.ClientIDs = clientIDs
		}
		for _, u := range ups {
			now := s.millis()
			base := path.Base(strings.ReplaceAll(u.name, "\\", "/"))
			ext := strings.TrimPrefix(strings.ToLower(path.Ext(base)), ".")
			mt := mime.TypeByExtension("." + ext)
			if mt == "" || ext == "" {
				mt = http.DetectContentType(u.data)
			}
			f := &fileRec{info: mattermost.FileInfo{ID: mattermost.NewID(), UserID: q.sess.userID, CreateAt: now, UpdateAt: now,
				Name: base, Extension: ext, Size: int64(len(u.data)), MimeType: mt}, data: u.data}
			s.st.files[f.info.ID] = f
			fi := f.info
			resp.FileInfos = append(resp.FileInfos, &fi)
		}
		s.touch()
		return resp, nil
	})
}

// fileForRead loads file_id: the uploader, or whoever can read the channel
// of the post it is attached to. On success s.mu is held.
func (q *request) fileForRead() *fileRec {
	id := q.idParam("file_id")
	if id == "" {
		return nil
	}
	s := q.s
	s.mu.Lock()
	f := s.st.files[id]
	if f == nil || f.info.DeleteAt != 0 {
		s.mu.Unlock()
		q.fail(apiError(http.StatusNotFound, "app.file_info.get.app_error", ""))
		return nil
	}
	allowed := f.info.UserID == q.sess.userID || s.st.isAdmin(q.sess.userID)
	if !allowed && f.info.PostID != "" {
		if p := s.st.posts[f.info.PostID]; p != nil {
			allowed = s.st.canReadChannel(s.st.channels[p.ChannelID], q.sess.userID)
		}
	}
	if !allowed {
		s.mu.Unlock()
		q.failPerm()
		return nil
	}
	return f
}

// getFile is GET /files/{file_id}: the bytes, with the stored type and an
// attachment Content-Disposition (web/handlers.go writeFileResponse).
func (q *request) getFile() {
	f := q.fileForRead()
	if f == nil {
		return
	}
	info, data := f.info, f.data
	q.s.mu.Unlock()
	h := q.w.Header()
	h.Set("Content-Type", info.MimeType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", "attachment;filename=\""+info.Name+"\"; filename*=UTF-8''"+url.PathEscape(info.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(data)
}

// getFileInfo is GET /files/{file_id}/info.
func (q *request) getFileInfo() {
	f := q.fileForRead()
	if f == nil {
		return
	}
	info := f.info
	q.s.mu.Unlock()
	q.reply(http.StatusOK, info)
}
