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

// uploadFiles is POST /files (api4/file.go uploadFileStream, the same in
// release-5.36 and today's server/channels/api4/file.go): a multipart body
// (uploadFileMultipart), or a raw body with ?channel_id=&filename=
// (uploadFileSimple). Answers 201 with file_infos and client_ids.
func (q *request) uploadFiles() {
	channelID := q.r.URL.Query().Get("channel_id")
	ct, params, err := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		q.uploadSimple(channelID)
		return
	}
	if params["boundary"] == "" { // http.ErrMissingBoundary
		q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_request.app_error", ""))
		return
	}
	q.uploadMultipart(channelID)
}

// upload is one file of an upload request.
type upload struct {
	name string
	data []byte
}

// uploadSimple is uploadFileSimple: channel_id, then filename, are
// required URL parameters; the body is the file.
func (q *request) uploadSimple(channelID string) {
	if !mattermost.IsValidID(channelID) {
		q.failURLParam("channel_id") // c.RequireChannelId
		return
	}
	name := q.r.URL.Query().Get("filename")
	if name == "" {
		q.failURLParam("filename") // c.RequireFilename
		return
	}
	b, err := io.ReadAll(io.LimitReader(q.r.Body, q.s.maxFile+1))
	if err != nil {
		q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_request.app_error", ""))
		return
	}
	if int64(len(b)) > q.s.maxFile {
		q.fail(apiError(http.StatusRequestEntityTooLarge, "api.file.upload_file.too_large_detailed.app_error", name))
		return
	}
	// client_ids is null without a client_id: the response is built
	// with FileInfos only.
	var clientIDs []string
	if id := q.r.URL.Query().Get("client_id"); id != "" {
		clientIDs = []string{id}
	}
	q.storeUploads(channelID, []upload{{name: name, data: b}}, clientIDs, true)
}

// maxFormValue is maxMultipartFormDataBytes: a form value is read up to
// 10 KiB.
const maxFormValue = 10 * 1024

// uploadMultipart is uploadFileMultipart. Its form values are channel_id
// and client_ids (one per file, or none); any other is a 400 naming it.
// Once channel_id is known, each file part is checked and uploaded as it
// comes (streaming mode): no files at all is a 201 with empty lists. A
// file before any channel_id switches to the legacy buffered mode
// (uploadFileMultipartLegacy): the whole form is read, channel_id is then
// required, only parts named files are uploaded, and other values are
// ignored.
func (q *request) uploadMultipart(channelID string) {
	s := q.s
	mr, err := q.r.MultipartReader()
	if err != nil {
		q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_request.app_error", ""))
		return
	}
	var (
		ups        []upload
		clientIDs  []string
		expectIDs  = true   // client ids are expected until a file comes without
		legacy     bool     // a file came before channel_id
		legacyChan []string // channel_id values seen in legacy mode
		checked    bool     // the channel and permission have been checked
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_request.app_error", ""))
			return
		}
		form := part.FormName()
		if form == "" {
			continue
		}
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxFormValue))
			if err != nil {
				q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_form_value.app_error", ""))
				return
			}
			v := string(b)
			if legacy {
				switch form {
				case "channel_id":
					legacyChan = append(legacyChan, v)
				case "client_ids":
					clientIDs = append(clientIDs, v)
				}
				continue
			}
			switch form {
			case "channel_id":
				if channelID != "" && channelID != v {
					q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.multiple_channel_ids.app_error", ""))
					return
				}
				if v != "" {
					channelID = v
				}
			case "client_ids":
				if !expectIDs {
					q.failParam("client_ids")
					return
				}
				clientIDs = append(clientIDs, v)
			default:
				q.failParam(form)
				return
			}
			continue
		}
		if !legacy && channelID == "" {
			legacy = true
		}
		if legacy && form != "files" {
			continue
		}
		if !legacy {
			if !checked {
				if !q.canUpload(channelID) {
					return
				}
				checked = true
			}
			if len(ups) == 0 && len(clientIDs) == 0 {
				expectIDs = false
			}
			if expectIDs && len(ups) >= len(clientIDs) {
				q.failParam("client_ids")
				return
			}
		}
		b, err := io.ReadAll(io.LimitReader(part, s.maxFile+1))
		if err != nil {
			q.fail(apiError(http.StatusBadRequest, "api.file.upload_file.read_request.app_error", ""))
			return
		}
		if int64(len(b)) > s.maxFile {
			q.fail(apiError(http.StatusRequestEntityTooLarge, "api.file.upload_file.too_large_detailed.app_error", part.FileName()))
			return
		}
		ups = append(ups, upload{name: part.FileName(), data: b})
	}
	if legacy {
		if len(legacyChan) == 0 {
			q.failParam("channel_id")
			return
		}
		channelID = legacyChan[0]
		if !q.canUpload(channelID) {
			return
		}
		if len(clientIDs) != 0 && len(clientIDs) != len(ups) {
			q.fail(incorrectClientIDs(len(clientIDs), len(ups)))
			return
		}
		ids := []string{}
		for _, id := range clientIDs {
			if id != "" {
				ids = append(ids, id)
			}
		}
		q.storeUploads(channelID, ups, ids, false)
		return
	}
	if expectIDs && len(clientIDs) != len(ups) {
		q.fail(incorrectClientIDs(len(clientIDs), len(ups)))
		return
	}
	if !expectIDs || clientIDs == nil {
		clientIDs = []string{}
	}
	q.storeUploads(channelID, ups, clientIDs, false)
}

// incorrectClientIDs is the 400 for a count of client_ids that is not the
// count of files.
func incorrectClientIDs(ids, files int) *mattermost.APIError {
	e := apiError(http.StatusBadRequest, "api.file.upload_file.incorrect_number_of_client_ids.app_error", "")
	e.Message = "Unable to upload file(s). Have " + strconv.Itoa(ids) + " client_ids for " + strconv.Itoa(files) + " files."
	return e
}

// canUpload checks channelID as c.RequireChannelId does (400) and the
// caller's upload_file permission there (403: members and system
// admins), answering the error itself.
func (q *request) canUpload(channelID string) bool {
	if !mattermost.IsValidID(channelID) {
		q.failURLParam("channel_id")
		return false
	}
	s := q.s
	s.mu.Lock()
	ch := s.st.channels[channelID]
	ok := ch != nil && (s.st.isChannelMember(ch.ID, q.sess.userID) || s.st.isAdmin(q.sess.userID))
	s.mu.Unlock()
	if !ok {
		q.failPerm()
	}
	return ok
}

// storeUploads stores the files and answers 201 with their infos and
// clientIDs (nil is sent as null). check says the channel and permission
// are still to be checked.
func (q *request) storeUploads(channelID string, ups []upload, clientIDs []string, check bool) {
	if check && !q.canUpload(channelID) {
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(*[]event) (any, *mattermost.APIError) {
		resp := mattermost.FileUploadResponse{FileInfos: []*mattermost.FileInfo{}, ClientIDs: clientIDs}
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
			if !s.is536() {
				// server/channels/app/file.go uploadFileTask.init: the
				// file knows its channel from the upload on; 5.36 left
				// channel_id "" (files_upload.json, files_info.json).
				f.info.ChannelID = channelID
			}
			s.st.files[f.info.ID] = f
			fi := f.info
			resp.FileInfos = append(resp.FileInfos, &fi)
		}
		if len(ups) > 0 {
			s.touch()
		}
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
