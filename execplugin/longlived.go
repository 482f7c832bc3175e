package execplugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Times of the long-lived protocol (docs/exec-plugins.md §5.1).
const (
	cancelGrace  = 2 * time.Second // from cancel to giving up on done
	stopWait     = 5 * time.Second // from deactivate to SIGTERM
	maxRestart   = time.Minute     // the longest wait between restarts
	stableUptime = time.Minute     // up this long, a process resets the backoff
	callTimeout  = time.Minute     // a call's deadline
	outQueue     = 64              // lines waiting for the writer
)

// restartingError is a request that came while the program was down.
type restartingError struct{ name string }

func (e restartingError) Error() string {
	return "the " + e.name + " plugin is restarting; try again in a moment"
}

// supervisor runs a long-lived plugin's program: started when the plugin
// is activated, restarted with backoff when it dies, stopped when the
// plugin is deactivated. The engine serializes start and stop.
type supervisor struct {
	pl *Plugin

	mu       sync.Mutex
	proc     *process // guarded by mu: the process serving requests; nil while down
	stopping bool     // guarded by mu: stop has begun

	stopCh chan struct{} // closed by stop: the supervising goroutine returns
	done   chan struct{} // closed when the supervising goroutine has returned
	ctx    context.Context
	cancel context.CancelFunc // cancels ctx, the parent of calls, once stopped
}

// start starts the program and waits for its ready: the plugin's
// activation.
func (s *supervisor) start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p, _, err := s.spawn(ctx, false)
	if err != nil {
		s.cancel()
		return err
	}
	s.mu.Lock()
	s.proc, s.stopping = p, false
	s.mu.Unlock()
	s.stopCh, s.done = make(chan struct{}), make(chan struct{})
	go s.supervise(p)
	return nil
}

// stop stops the program: the plugin's deactivation.
func (s *supervisor) stop(ctx context.Context) error {
	if s.stopCh == nil {
		return nil
	}
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	close(s.stopCh)
	<-s.done
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	var err error
	if p != nil {
		err = p.shutdown(ctx)
	}
	s.cancel()
	s.stopCh = nil
	return err
}

// current returns the process serving requests, or nil.
func (s *supervisor) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// supervise restarts the program each time it dies, until stop.
func (s *supervisor) supervise(p *process) {
	defer close(s.done)
	pl := s.pl
	delay := pl.o.restartDelay()
	for {
		select {
		case <-p.dead:
		case <-s.stopCh:
			return
		}
		up := time.Since(p.started)
		pl.log.Error("plugin program exited; restarting", "err", p.err, "uptime", up.Round(time.Millisecond), "restart_in", delay)
		s.mu.Lock()
		s.proc = nil
		s.mu.Unlock()
		if up >= stableUptime {
			delay = pl.o.restartDelay()
		}
		for {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.stopCh:
				t.Stop()
				return
			}
			delay = min(2*delay, maxRestart)
			np, _, err := s.spawn(s.ctx, false)
			if err != nil {
				pl.log.Error("plugin program restart failed", "err", err, "restart_in", delay)
				continue
			}
			s.mu.Lock()
			if s.stopping {
				s.mu.Unlock()
				_ = np.shutdown(s.ctx) // stop has begun and waits for us
				return
			}
			s.proc = np
			s.mu.Unlock()
			pl.log.Info("plugin program restarted")
			p = np
			break
		}
	}
}

// process is one run of a long-lived program.
type process struct {
	s       *supervisor
	pl      *Plugin
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	stderr  *stderrLog
	started time.Time
	// describe: started with a describe hello (§11), to read its manifest
	describe bool

	out   chan []byte   // lines for the writer
	quit  chan struct{} // closed: the writer writes what is queued, closes stdin and returns
	quitO sync.Once
	ready chan *inbound // size 1: the first ready
	dead  chan struct{} // closed once the process has exited and its output is read
	err   error         // why it ended; set before dead is closed

	calls sync.WaitGroup // call goroutines

	// botMu serializes syncBot, and holds it while the bot message is
	// queued, so that a request sent after syncBot returns follows it.
	botMu sync.Mutex
	bot   *wireBot // guarded by botMu: what the program was last told of the bot

	mu      sync.Mutex
	open    map[string]*mailbox // guarded by mu: requests in progress, by id
	isReady bool                // guarded by mu: ready came
	warned  map[string]bool     // guarded by mu: unknown types logged
	closing bool                // guarded by mu: shutdown has begun; the output may end
}

// mailbox holds what the plugin wrote for one request, for the
// request's goroutine.
type mailbox struct {
	inv    *invocation
	mu     sync.Mutex
	items  []*inbound    // guarded by mu
	signal chan struct{} // size 1: something was pushed
}

func (m *mailbox) push(in *inbound) {
	m.mu.Lock()
	m.items = append(m.items, in)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

func (m *mailbox) take() []*inbound {
	m.mu.Lock()
	defer m.mu.Unlock()
	items := m.items
	m.items = nil
	return items
}

// spawn starts the program, says hello, and waits for ready (which it
// returns: with describe, it holds the manifest).
func (s *supervisor) spawn(ctx context.Context, describe bool) (*process, *inbound, error) {
	pl := s.pl
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("execplugin %s: %w", pl.m.Name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		_, _ = inR.Close(), inW.Close()
		return nil, nil, fmt.Errorf("execplugin %s: %w", pl.m.Name, err)
	}
	cmd := pl.command()
	// Pipes of our own, not StdoutPipe: Wait must not close the output
	// before the reader has read it.
	cmd.Stdin, cmd.Stdout = inR, outW
	p := &process{
		s: s, pl: pl, cmd: cmd, stdin: inW, stdout: outR, stderr: pl.newStderr(), describe: describe,
		out: make(chan []byte, outQueue), quit: make(chan struct{}), ready: make(chan *inbound, 1),
		dead: make(chan struct{}), open: map[string]*mailbox{}, warned: map[string]bool{},
	}
	cmd.Stderr = p.stderr
	cmd.WaitDelay = pl.o.killGrace()
	err = cmd.Start()
	_, _ = inR.Close(), outW.Close() // the child's ends
	if err != nil {
		_, _ = inW.Close(), outR.Close()
		return nil, nil, fmt.Errorf("execplugin %s: start %s: %w", pl.m.Name, pl.m.Exec[0], err)
	}
	p.started = time.Now()
	readerDone := make(chan struct{})
	go p.write()
	go func() { defer close(readerDone); p.read() }()
	go p.wait(readerDone)

	hello := wireHello{
		Type: "hello", Protocol: Protocol, Plugin: pl.m.Name, Version: pl.m.Version, Describe: describe,
		Bot: pl.botInfo(),
		Limits: wireLimits{
			Timeout: pl.limitTimeout().Seconds(), Concurrency: cap(pl.sem), MaxOutput: pl.maxOutput(),
		},
	}
	p.bot = hello.Bot
	if describe {
		hello.Config = json.RawMessage("{}")
		hello.TakenCommands = pl.taken
	} else {
		hello.Config = pl.config()
	}
	fail := func(err error) (*process, *inbound, error) {
		signalGroup(cmd, true)
		<-p.dead
		p.calls.Wait()
		return nil, nil, fmt.Errorf("execplugin %s: %w%s", pl.m.Name, err, p.stderr.Tail())
	}
	if err := p.sendJSON(ctx, hello); err != nil {
		select {
		case <-p.dead:
			return fail(fmt.Errorf("the program exited before ready: %v", p.err))
		default:
			return fail(fmt.Errorf("hello: %w", err))
		}
	}
	t := time.NewTimer(pl.startTimeout())
	defer t.Stop()
	var ready *inbound
	select {
	case ready = <-p.ready:
	case <-p.dead:
		return fail(fmt.Errorf("the program exited before ready: %v", p.err))
	case <-t.C:
		return fail(fmt.Errorf("no ready within limits.start_timeout %v", pl.startTimeout()))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if ready.Protocol != Protocol {
		return fail(fmt.Errorf("ready says protocol %d, hello said %d", ready.Protocol, Protocol))
	}
	return p, ready, nil
}

func (pl *Plugin) startTimeout() time.Duration {
	if pl.m.Limits.StartTimeout > 0 {
		return time.Duration(pl.m.Limits.StartTimeout)
	}
	return defaultStartTimeout
}

// limitTimeout is the plugin-wide timeout hello reports.
func (pl *Plugin) limitTimeout() time.Duration {
	if t := pl.timeout(0); t > 0 {
		return t
	}
	return defaultTimeout
}

// write writes the queued lines to the program, until quit; then it
// writes what is left and closes the program's input.
func (p *process) write() {
	defer func() { _ = p.stdin.Close() }()
	for {
		select {
		case b := <-p.out:
			if _, err := p.stdin.Write(b); err != nil {
				return // the program is gone; wait reports it
			}
		case <-p.quit:
			for {
				select {
				case b := <-p.out:
					if _, err := p.stdin.Write(b); err != nil {
						return
					}
				default:
					return
				}
			}
		case <-p.dead:
			return
		}
	}
}

// send queues a line for the program.
func (p *process) send(ctx context.Context, line []byte) error {
	select {
	case p.out <- line:
		return nil
	case <-p.quit:
		return errors.New("the program's input is closed")
	case <-p.dead:
		return fmt.Errorf("the program exited: %v", p.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *process) sendJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.send(ctx, append(b, '\n'))
}

// closeInput makes the writer close the program's input once the queued
// lines are written.
func (p *process) closeInput() { p.quitO.Do(func() { close(p.quit) }) }

// wait waits for the program to exit and its output to be read, and
// closes dead.
func (p *process) wait(readerDone chan struct{}) {
	err := p.cmd.Wait()
	signalGroup(p.cmd, true) // what it left running in its group
	t := time.NewTimer(p.pl.o.killGrace())
	select {
	case <-readerDone:
	case <-t.C:
		_ = p.stdout.Close() // a stray grandchild holds it open
		<-readerDone
	}
	t.Stop()
	_ = p.stdout.Close()
	_ = p.stderr.Close()
	p.mu.Lock()
	if p.err == nil {
		if err == nil {
			err = errors.New("exit status 0")
		}
		p.err = err
	}
	p.mu.Unlock()
	close(p.dead)
}

// protocolError ends the process for a line it should not have written.
func (p *process) protocolError(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = fmt.Errorf("protocol error: %w", err)
	}
	p.mu.Unlock()
	p.pl.log.Error("plugin protocol error; stopping the program", "err", err)
	signalGroup(p.cmd, true)
}

// read reads the program's output and routes each line.
func (p *process) read() {
	br := bufio.NewReaderSize(p.stdout, 64<<10)
	max := p.pl.maxOutput()
	for {
		line, err := readLine(br, max)
		if errors.Is(err, errOutput) {
			p.protocolError(fmt.Errorf("a line longer than limits.max_output (%d bytes)", max))
			return
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if rerr := p.route(bytes.TrimSpace(line)); rerr != nil {
				p.protocolError(rerr)
				return
			}
		}
		if err != nil {
			p.mu.Lock()
			closing := p.closing
			p.mu.Unlock()
			if !closing {
				// Output closed: the program is exiting or broken.
				signalGroup(p.cmd, false)
			}
			return
		}
	}
}

// route acts on one line of the program.
func (p *process) route(line []byte) error {
	in, err := decodeLine(line)
	if err != nil {
		return err
	}
	p.mu.Lock()
	ready := p.isReady
	p.mu.Unlock()
	switch {
	case in.Type == typeReady:
		p.mu.Lock()
		if p.isReady {
			p.mu.Unlock()
			p.pl.log.Warn("plugin said ready twice")
			return nil
		}
		p.isReady = true
		p.mu.Unlock()
		p.ready <- in
	case in.Type == typeLog:
		p.pl.logLine(in)
	case in.Type == typeCall:
		if in.Call == "" {
			return errors.New("call without call id")
		}
		if in.Method == "ask" || in.Method == "reply" {
			var ref struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(in.Params, &ref)
			if mb := p.mailbox(ref.ID); mb != nil {
				mb.push(in)
				return nil
			}
			p.result(in.Call, nil, &callError{Code: "cancelled", Message: fmt.Sprintf("no request %q in progress", ref.ID)})
			return nil
		}
		p.calls.Add(1)
		go func() {
			defer p.calls.Done()
			v, cerr := p.call(in)
			p.result(in.Call, v, cerr)
		}()
	case isReply(in.Type):
		if !ready {
			return fmt.Errorf("%s before ready", in.Type)
		}
		if in.ID == "" {
			return fmt.Errorf("%s without id", in.Type)
		}
		if mb := p.mailbox(in.ID); mb != nil {
			mb.push(in)
		} else {
			p.pl.log.Debug("plugin wrote for a request not in progress", "type", in.Type, "id", in.ID)
		}
	default:
		p.mu.Lock()
		first := !p.warned[in.Type]
		p.warned[in.Type] = true
		p.mu.Unlock()
		if first {
			p.pl.log.Warn("plugin wrote an unknown message type; ignored", "type", in.Type)
		}
	}
	return nil
}

func (p *process) mailbox(id string) *mailbox {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open[id]
}

// result answers a call.
func (p *process) result(call string, v any, cerr *callError) {
	r := wireResult{Type: "result", Call: call, Value: v, Error: cerr}
	if cerr == nil && v == nil {
		r.Value = struct{}{}
	}
	ctx, cancel := context.WithTimeout(p.s.ctx, callTimeout)
	defer cancel()
	if err := p.sendJSON(ctx, r); err != nil {
		p.pl.log.Debug("call result not sent", "call", call, "err", err)
	}
}

// invoke runs inv on the current process.
func (s *supervisor) invoke(ctx context.Context, inv *invocation) error {
	pl := s.pl
	p := s.current()
	if p == nil {
		return &bot.UserError{Err: restartingError{pl.m.Name}}
	}
	id := strconv.FormatUint(pl.ids.Add(1), 10)
	mb := &mailbox{inv: inv, signal: make(chan struct{}, 1)}
	p.mu.Lock()
	p.open[id] = mb
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.open, id)
		p.mu.Unlock()
	}()
	if err := p.syncBot(ctx); err != nil {
		return fmt.Errorf("execplugin %s: bot: %w", pl.m.Name, err)
	}
	if err := p.sendJSON(ctx, pl.request(ctx, inv, id, false)); err != nil {
		return fmt.Errorf("execplugin %s: request: %w", pl.m.Name, err)
	}
	var (
		ctxDone = ctx.Done()
		grace   <-chan time.Time
	)
	for {
		select {
		case <-mb.signal:
			for _, in := range mb.take() {
				if in.Type == typeCall {
					p.requestCall(ctx, inv, in)
					continue
				}
				err := in.check()
				if err == nil {
					err = pl.act(ctx, inv, in)
				}
				if err != nil {
					p.cancel(ctx, id, "error")
					return fmt.Errorf("execplugin %s: %s: %w", pl.m.Name, in.Type, err)
				}
				if in.Type == typeDone {
					if ctxDone == nil && inv.err == nil {
						// Done after the cancel: the engine reports the timeout.
						return fmt.Errorf("execplugin %s: cancelled: %w", pl.m.Name, ctx.Err())
					}
					return nil
				}
			}
		case <-p.dead:
			return fmt.Errorf("execplugin %s: the program exited: %v%s", pl.m.Name, p.err, p.stderr.Tail())
		case <-ctxDone:
			ctxDone = nil
			reason := "shutdown"
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				reason = "timeout"
			}
			s.mu.Lock()
			if s.stopping {
				reason = "deactivate"
			}
			s.mu.Unlock()
			p.cancel(ctx, id, reason)
			t := time.NewTimer(cancelGrace)
			defer t.Stop()
			grace = t.C
		case <-grace:
			return fmt.Errorf("execplugin %s: no done after cancel: %w", pl.m.Name, ctx.Err())
		}
	}
}

// syncBot sends the program a bot message when what it was told of the
// bot (hello's bot, or the last bot message) is no longer so: the bot
// has connected, or a configuration reload changed its prefix, alternative
// prefixes or admins.
func (p *process) syncBot(ctx context.Context) error {
	p.botMu.Lock()
	defer p.botMu.Unlock()
	b := p.pl.botInfo()
	if b.equal(p.bot) {
		return nil
	}
	p.bot = b
	return p.sendJSON(ctx, wireBotMessage{Type: "bot", Bot: b})
}

// cancel tells the program to give up request id.
func (p *process) cancel(ctx context.Context, id, reason string) {
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer stop()
	_ = p.sendJSON(ctx, wireCancel{Type: "cancel", ID: id, Reason: reason}) // gone: nothing to cancel
}

// requestCall runs a call tied to a request (ask, reply) in the
// request's goroutine, which alone may use the request.
func (p *process) requestCall(ctx context.Context, inv *invocation, in *inbound) {
	switch in.Method {
	case "ask":
		var params struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(in.Params, &params); err != nil || params.Text == "" {
			p.result(in.Call, nil, &callError{Code: "bad_request", Message: "ask needs params.id and params.text"})
			return
		}
		if inv.req == nil {
			p.result(in.Call, nil, &callError{Code: "bad_request", Message: "a " + inv.kind + " has nobody to ask"})
			return
		}
		m, err := inv.req.Ask(ctx, params.Text)
		switch {
		case errors.Is(err, bot.ErrNoAnswer):
			p.result(in.Call, nil, &callError{Code: "no_answer", Message: err.Error()})
		case ctx.Err() != nil:
			p.result(in.Call, nil, &callError{Code: "cancelled", Message: err.Error()})
		case err != nil:
			p.result(in.Call, nil, &callError{Code: "failed", Message: err.Error()})
		default:
			p.result(in.Call, map[string]any{"message": messageOf(m)}, nil)
		}
	case "reply":
		r, err := decodeLine(in.Params)
		if err == nil && (!isReply(r.Type) || r.Type == typeDone || r.Type == typeAsk) {
			err = fmt.Errorf("%q cannot be sent by the reply call", r.Type)
		}
		if err == nil {
			err = r.check()
		}
		if err != nil {
			p.result(in.Call, nil, &callError{Code: "bad_request", Message: err.Error()})
			return
		}
		inv.sendErr = nil
		if err := p.pl.act(ctx, inv, r); err != nil {
			p.result(in.Call, nil, &callError{Code: "bad_request", Message: err.Error()})
			return
		}
		if inv.sendErr != nil {
			p.result(in.Call, nil, &callError{Code: "failed", Message: inv.sendErr.Error()})
			return
		}
		p.result(in.Call, nil, nil)
	}
}

// call runs a call not tied to a request (§7).
func (p *process) call(in *inbound) (any, *callError) {
	pl := p.pl
	ctx, cancel := context.WithTimeout(p.s.ctx, callTimeout)
	defer cancel()
	bad := func(format string, args ...any) (any, *callError) {
		return nil, &callError{Code: "bad_request", Message: fmt.Sprintf(format, args...)}
	}
	failed := func(err error) (any, *callError) {
		switch {
		case errors.Is(err, bot.ErrNotFound), errors.Is(err, bot.ErrUnknown):
			return nil, &callError{Code: "not_found", Message: err.Error()}
		case errors.Is(err, bot.ErrUnsupported):
			return nil, &callError{Code: "unsupported", Message: err.Error()}
		case ctx.Err() != nil:
			return nil, &callError{Code: "cancelled", Message: err.Error()}
		}
		return nil, &callError{Code: "failed", Message: err.Error()}
	}
	var params struct {
		Key      string          `json:"key"`
		Value    json.RawMessage `json:"value"`
		Prefix   string          `json:"prefix"`
		Name     string          `json:"name"`
		To       string          `json:"to"`
		Text     *string         `json:"text"`
		Card     *wireCard       `json:"card"`
		File     *wireFile       `json:"file"`
		ThreadID string          `json:"thread_id"`
		ID       string          `json:"id"`
	}
	if len(in.Params) > 0 {
		if err := json.Unmarshal(in.Params, &params); err != nil {
			return bad("params: %v", err)
		}
	}
	store := pl.bp.Store()
	switch in.Method {
	case "store.get":
		b, err := store.Get(ctx, params.Key)
		if errors.Is(err, bot.ErrNotFound) {
			return map[string]any{"found": false}, nil
		}
		if err != nil {
			return failed(err)
		}
		var v any = json.RawMessage(b)
		if !json.Valid(b) {
			v = string(b)
		}
		return map[string]any{"found": true, "value": v}, nil
	case "store.set":
		if len(params.Value) == 0 {
			return bad("store.set needs params.key and params.value")
		}
		if err := store.Set(ctx, params.Key, params.Value); err != nil {
			return failed(err)
		}
		return nil, nil
	case "store.delete":
		if err := store.Delete(ctx, params.Key); err != nil {
			return failed(err)
		}
		return nil, nil
	case "store.keys":
		keys, err := store.Keys(ctx, params.Prefix)
		if err != nil {
			return failed(err)
		}
		if keys == nil {
			keys = []string{}
		}
		return map[string]any{"keys": keys}, nil
	case "send":
		if _, err := bot.ParseAddress(params.To); err != nil {
			return bad("send: to: %v", err)
		}
		if params.Text == nil && params.Card == nil && params.File == nil {
			return bad("send needs text, card or file")
		}
		out, closeFn, err := pl.outgoing(params.Text, params.Card, params.File, params.ThreadID)
		if err != nil {
			return bad("send: %v", err)
		}
		defer closeFn()
		if mb := p.mailbox(params.ID); mb != nil {
			if m := mb.inv.message(); m != nil {
				out.ReplyTo = m.ID
			}
		}
		if err := pl.bp.Send(ctx, params.To, out); err != nil {
			return failed(err)
		}
		return nil, nil
	case "user":
		name := params.Name
		if !strings.HasPrefix(name, "@") {
			name = "@" + name
		}
		u, err := pl.bp.Engine().User(ctx, name)
		if err != nil {
			return failed(err)
		}
		return userOf(u), nil
	case "room":
		name := params.Name
		if !strings.HasPrefix(name, "~") {
			name = "~" + name
		}
		r, err := pl.bp.Engine().Room(ctx, name)
		if err != nil {
			return failed(err)
		}
		return roomOf(r), nil
	}
	return bad("unknown method %q", in.Method)
}

// message returns the message inv answers, or nil.
func (inv *invocation) message() *bot.Message {
	if inv.req != nil {
		return inv.req.Message
	}
	return inv.msg
}

// shutdown stops the process: open requests are cancelled, then
// deactivate is sent. The program's input stays open until it exits, so
// that the calls its deactivate hook makes get their results; if it is
// still running after stopWait, its input is closed and it is sent
// SIGTERM, and SIGKILL after the kill grace. A describe process, which
// has no hook to run and exits at the end of its input (§11), has its
// input closed at once.
func (p *process) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	ids := make([]string, 0, len(p.open))
	for id := range p.open {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.cancel(ctx, id, "deactivate")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancel()
	_ = p.sendJSON(sctx, map[string]string{"type": "deactivate"}) // gone already: fine
	if p.describe {
		p.closeInput()
	}
	t := time.NewTimer(stopWait)
	defer t.Stop()
	var err error
	select {
	case <-p.dead:
	case <-t.C:
		err = fmt.Errorf("execplugin %s: the program did not exit within %v of deactivate; killed", p.pl.m.Name, stopWait)
		p.closeInput()
		cancelStop := stopGroup(p.cmd, p.pl.o.killGrace(), func() {})
		<-p.dead
		cancelStop()
	}
	p.calls.Wait()
	return err
}
