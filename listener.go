package matterbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// Limits of the HTTP listener ([http] listen). A webhook sender has a
// minute for its whole request: at the default body limit (1 MiB,
// bot.Options.WebhookMaxBody) that is 17 KiB/s, which any sender on a
// working network beats; a client that trickles its headers or its
// body (slowloris) is cut off instead of holding a connection. There is
// no write deadline: a webhook handler may run up to the engine's
// command timeout before it answers, and handlers have their own
// deadlines.
const (
	// httpReadHeaderTimeout bounds the request line and headers.
	httpReadHeaderTimeout = 10 * time.Second
	// httpReadTimeout bounds the whole request, headers and body, from
	// its first byte. net/http lifts it once the body is read, so it
	// never cuts a handler short.
	httpReadTimeout = time.Minute
	// httpIdleTimeout closes a keep-alive connection idle this long.
	httpIdleTimeout = time.Minute
	// httpMaxHeaderBytes bounds the request line and headers; net/http's
	// default is 1 MiB.
	httpMaxHeaderBytes = 64 << 10
	// httpShutdownTimeout is how long the listener waits, once the
	// engine has stopped, for the requests still being served.
	httpShutdownTimeout = 10 * time.Second
)

// httpHandler returns the handler of the HTTP listener: the operations
// endpoints, and the plugins' webhooks (eng.HTTPHandler) under every
// other path. /healthz answers 200 "ok" while the process serves;
// /readyz answers 200 "ok" while the bot is ready (eng.Ready: logged in,
// connected, caught up, not shutting down) and 503 with the reason
// otherwise; with cfg.PProf, /debug/pprof/ serves Go's profiler. Another handler mounts on it with one line in runCmd.Run:
//
//	mux.Handle("GET /metrics", h)
func httpHandler(eng *bot.Engine, cfg config.HTTP) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", eng.HTTPHandler())
	mux.Handle("/healthz", getOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok")
	})))
	mux.Handle("/readyz", getOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := eng.Ready(); err != nil {
			plain(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		plain(w, http.StatusOK, "ok")
	})))
	if cfg.PProf {
		// The paths net/http/pprof registers on http.DefaultServeMux,
		// which is not served.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// getOnly answers other methods than GET and HEAD with 405: the
// operations endpoints take no requests that change anything.
func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// plain writes a short text answer, never cached.
func plain(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, text)
}

// warnShadowed logs each webhook that an operations endpoint of mux
// hides: a plugin that declared "GET /healthz" is never called.
func warnShadowed(mux *http.ServeMux, eng *bot.Engine, logger *slog.Logger) {
	for _, h := range eng.Webhooks() {
		method, path, ok := strings.Cut(h.Pattern, " ")
		if !ok {
			method, path = http.MethodGet, h.Pattern
		}
		host := ""
		if i := strings.IndexByte(path, '/'); i > 0 {
			host, path = path[:i], path[i:]
		}
		r := &http.Request{Method: method, Host: host, URL: &url.URL{Path: path}}
		if _, p := mux.Handler(r); p != "/" {
			logger.Warn("webhook hidden by an operations endpoint", "plugin", h.Plugin, "webhook", h.Pattern, "endpoint", p)
		}
	}
}

// serveHTTP runs the engine and, beside it, the HTTP listener on addr
// serving handler. The listener is up before the bot connects, so that
// /healthz and /readyz answer while it does, and is shut down once the
// engine has stopped; meanwhile the engine answers webhook requests
// with 503.
func serveHTTP(ctx context.Context, eng *bot.Engine, addr string, handler http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return &cliError{fmt.Sprintf("cannot listen on %s ([http] listen): address already in use; choose another port, or listen = \"\" to turn the listener off", addr), err}
	}
	if err != nil {
		return fmt.Errorf("http listener: %w", err)
	}
	return serveListener(ctx, eng, ln, handler, logger)
}

// serveListener is serveHTTP on a listener already open, which it
// closes.
func serveListener(ctx context.Context, eng *bot.Engine, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("http server listening", "addr", ln.Addr().String())
	served := make(chan error, 1) // size 1: never blocks the server goroutine
	go func() { served <- srv.Serve(ln) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1) // size 1: never blocks the engine goroutine
	go func() { ran <- eng.Run(ctx) }()

	var err error
	select {
	case err = <-ran:
	case serr := <-served: // the listener failed under us
		cancel()
		<-ran
		return fmt.Errorf("http listener: %w", serr)
	}
	sctx, scancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer scancel()
	_ = srv.Shutdown(sctx) // a request still running at the timeout is cut
	<-served
	return err
}
