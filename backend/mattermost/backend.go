package mattermost

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// Defaults of Options.
const (
	DefaultScheme  = "https"
	DefaultPort    = 8065 // as in Errbot's Mattermost backend
	DefaultTimeout = 30 * time.Second
)

// Options configures a Backend. The fields follow the [mattermost] table
// of the configuration file (and Errbot's BOT_IDENTITY); every zero field
// means its documented default.
type Options struct {
	// Server is the server's host name ("chat.example.com"), or a whole
	// site URL ("http://127.0.0.1:8065"), in which case Scheme and Port
	// are ignored. Required.
	Server string
	// Scheme is "https" (default) or "http".
	Scheme string
	// Port is the server's port. Default 8065.
	Port int
	// Teams are the names of the teams the bot works in; the first is the
	// default team of room names without one ("~ops"). The bot must be a
	// member of each; posts in the channels of its other teams are
	// ignored (direct and group messages belong to no team and are
	// always served). With none, the bot serves every team it is a member
	// of when it connects, in name order (the first by name is the
	// default team); a bot in no team serves direct and group messages
	// only.
	Teams []string

	// Token is a bot or personal access token. Set it, or Login and
	// Password (with MFAToken for an account with multi-factor auth).
	// The server takes an MFA code once, for about 30 seconds: a password
	// session that expires later cannot be renewed with it, and Run then
	// fails. A long-running bot on an MFA account wants an access token.
	Token    mm.Secret
	Login    string
	Password mm.Secret
	MFAToken mm.Secret

	// Insecure skips TLS certificate verification, for a server with a
	// self-signed certificate. Default false.
	Insecure bool
	// Timeout bounds each request to the server, the first one (the
	// login, or the check of the token) retries included, so that a
	// server that never answers is reported after Timeout, and each
	// WebSocket connection attempt unless WebSocket.DialTimeout is set.
	// Default 30s.
	Timeout time.Duration

	// CardsHook is the id of an incoming webhook to post cards through,
	// as Errbot's backend did. Default "": cards are posted by the bot
	// itself as message attachments, which every server since 5.x
	// accepts. The hook is used for channels of the default team (the
	// first of Teams) only, and not in threads or direct and group
	// messages, which a webhook cannot reach as the bot: cards bound
	// there are posted as attachments anyway.
	CardsHook string

	// AllowBots delivers other bots' posts to the engine: those of bot
	// accounts (props.from_bot) and those of other matterbots, whatever
	// their account (every post a matterbot makes carries PropReplyTo).
	// AllowWebhooks delivers posts made by webhooks and plugins. Default
	// false for both, so that two bots never answer each other in a
	// loop; the first ignored post of each bot says so in the log.
	AllowBots     bool
	AllowWebhooks bool

	// IgnoreUsers names users ("@errbot" or "errbot") whose posts the
	// bot never sees: a third-party bot or a script on an ordinary user
	// account, which nothing tells from a person (another matterbot
	// needs no entry: its posts are marked). A name unknown to the
	// server stops Run with an error. Default: none.
	IgnoreUsers []string

	// LoopLimit and LoopWindow guard against a loop with a program let
	// in by AllowBots or AllowWebhooks: after LoopLimit exchanges with
	// one program in one channel (the bot's answer to a post of theirs
	// made after its previous answer) within LoopWindow, the bot ignores
	// that program in that channel for LoopWindow and logs a warning.
	// People's posts are never counted, however fast they come.
	// Defaults DefaultLoopLimit (20) and DefaultLoopWindow (1 minute); a
	// negative LoopLimit turns the guard off.
	LoopLimit  int
	LoopWindow time.Duration

	// PresenceInterval is how often the bot asks the server for the
	// status (online, away, dnd, offline) of the people it has seen, and
	// delivers the changes to the plugins' OnPresence: the server tells
	// a user only of its own status changes. Default
	// DefaultPresenceInterval (1 minute); negative: never. One poll is
	// one or two requests (at most 1000 people). The engine does not say
	// whether any plugin listens, so the bot polls either way: turn it
	// off when none does.
	PresenceInterval time.Duration

	// UserCache is how many users the bot keeps in memory, the least
	// recently seen forgotten first; UserCacheTTL is how long it trusts
	// what it keeps of one (the server's user_updated events keep them
	// current meanwhile) before it asks again. A sender the bot does not
	// hold costs one request (several new senders at once share one).
	// Defaults DefaultUserCache (5,000, about 1.2 MB) and
	// DefaultUserCacheTTL (1 hour); a negative UserCacheTTL never
	// expires them. Observer.ObserveCache counts the hits and misses.
	UserCache    int
	UserCacheTTL time.Duration

	// RateLimit caps the requests per second the bot sends, when
	// positive. Default 0: no cap of the bot's own; the bot keeps to what
	// the server says (X-Ratelimit-* headers, 429 Retry-After). A server's
	// rate limiting is off unless enabled (RateLimitSettings.Enable);
	// a cap is for a server that limits without saying so. Negative
	// means no cap too.
	RateLimit float64

	// Retry is the backoff for requests that failed with a 429, a 5xx or
	// no answer: the backend's retries of posts, uploads, the cards hook
	// and catch-up reads, and the client's retries of each request. The
	// zero value means the defaults (see RetryPolicy).
	Retry RetryPolicy

	// CatchUp is how far back a catch-up looks for commands to answer:
	// on start, in every channel the bot serves since the last post it
	// handled there before it stopped (with a Store), and after a
	// WebSocket reconnection that could not resume, since the last post
	// it saw. Commands older than CatchUp are not answered; one log line
	// says how many were skipped. Default DefaultCatchUp (15 minutes);
	// negative: no catch-up on start, and no limit after a
	// reconnection.
	CatchUp time.Duration

	// MaxMessageRunes is the longest post; longer text is split (see
	// Split). Default mm.PostMessageMaxRunes, the server's limit.
	MaxMessageRunes int

	// Store keeps what the backend must remember across restarts, under
	// keys of its own: the outbox (keys "outbox/..."), and how far the
	// bot has handled each channel (keys "catch-up..."; in a store that
	// is a bot.Batcher, as matterbot run's is, a save writes only the
	// channels that moved since the last), so that on start it
	// answers the commands posted while it was stopped (see CatchUp).
	// Give it a store of its own (bot.Storage.Store with a name no
	// plugin has; matterbot run passes "backend:mattermost"). Default
	// nil: kept in memory, lost at exit, and a command posted while the
	// bot was stopped is never answered.
	Store bot.Store
	// OutboxMaxAge is how long a reply the server could not take is kept
	// and sent again. A post the server does not take at the first try,
	// or before the reply's context ends (a handler's deadline, the end
	// of a shutdown), goes to an outbox in Store instead of being
	// dropped, and is sent when the server answers again, even after a
	// restart, oldest first: a later reply to the same command (or, for
	// posts that answer none, to the same channel) goes behind those
	// waiting. Its pending_post_id goes with it, and a post an
	// earlier attempt made is found (PropPendingPostID), so a resend
	// never posts twice. A reply older than OutboxMaxAge is dropped with
	// a log line (Observer.ObserveOutboxDropped). Default
	// DefaultOutboxMaxAge (1 hour); negative: no outbox, a reply is
	// retried for Retry.MaxTotal, then dropped (Send returns the error).
	OutboxMaxAge time.Duration

	// PublicURL is the bot's HTTP listener as the server reaches it
	// ("https://bot.example.com"): the server calls PublicURL+ActionPath
	// when a user clicks a card's action, and PublicURL+DialogPath with a
	// dialog's submission (see Interactions). Default "": cards with
	// actions and dialogs cannot be sent (Send fails).
	PublicURL string
	// ActionSecret is the key that signs the actions of cards and the
	// dialogs, so that a request that does not come from a message the
	// bot sent is refused. Default "": a key generated once and kept in
	// Store (in memory without a Store: then buttons stop working when
	// the bot restarts).
	ActionSecret mm.Secret
	// ActionLifetime is how long a card's actions and a dialog work
	// after they are sent; a later click gets an ephemeral message that
	// the button expired. Default DefaultActionLifetime (7 days);
	// negative: they never expire.
	ActionLifetime time.Duration

	// HTTPClient makes every request, the WebSocket's included. Default: a
	// client built from Timeout and Insecure.
	HTTPClient *http.Client
	// WebSocket tunes the event stream (keepalive, dead-link detection,
	// backoff); the zero value means the package mattermost defaults,
	// except DialTimeout, which defaults to Timeout. Its HTTPClient and
	// Logger are set by the backend.
	WebSocket mm.WebSocketOptions
	// Logger receives life-cycle messages and, at Debug, each decision
	// about an event. Default: discard. Secrets are never logged.
	Logger *slog.Logger
	// Observer is told of the requests to the server, the rate-limit
	// waits, the WebSocket's reconnects and the posts caught up, for
	// metrics. Default nil: nobody.
	Observer Observer
	// Slash configures the bot's own slash commands. Default: none.
	Slash SlashOptions
	// Now returns the current time, for the age of the posts a catch-up
	// reads (CatchUp) and the time the positions are saved at. Default
	// time.Now; tests that move a fake server's clock set it.
	Now func() time.Time
}

// Observer is told of a Backend's traffic (Options.Observer): what an
// mm.Observer is told of its client and WebSocket, and the posts each
// catch-up delivers. Its methods must be quick and safe for concurrent
// use.
type Observer interface {
	mm.Observer
	// ObserveCatchUp reports posts missed while the WebSocket was away,
	// or while the bot was stopped (Options.Store), and delivered to the
	// engine by a catch-up over REST (the bot's own posts, and those
	// delivered or answered already, are not counted).
	ObserveCatchUp(posts int)
	// ObserveOutbox reports the number of posts waiting in the outbox
	// (see Options.OutboxMaxAge), after each change.
	ObserveOutbox(waiting int)
	// ObserveCache reports a lookup in one of the backend's caches
	// (CacheUsers): hit when the cache answered it, a miss when the
	// server had to be asked.
	ObserveCache(cache string, hit bool)
	// ObserveOutboxDropped reports a post dropped from the outbox:
	// reason "expired" when it was older than Options.OutboxMaxAge,
	// "refused" when the server refused it when it was sent again (the
	// channel gone, the bot removed from it).
	ObserveOutboxDropped(reason string)
}

// Backend is a bot.Backend for Mattermost. Create it with New and hand it
// to bot.New; the engine calls Run, which connects.
//
// Besides bot.Backend it implements bot.Connector, bot.Closer,
// bot.Typer, bot.EphemeralSender, bot.FileOpener and bot.RoomManager.
type Backend struct {
	opts   Options
	url    string // site URL
	log    *slog.Logger
	client *mm.Client
	limit  int // runes per post

	keyMu sync.Mutex
	key   []byte // guarded by keyMu: signs interactive messages; see actionKey

	running    atomic.Bool
	connecting atomic.Bool // Connect was called
	// connected is set once connect has filled the fields below; the
	// methods the engine calls check it, and its store publishes them.
	connected atomic.Bool

	// jitter draws a retry's wait from its ceiling (see retry); nil
	// means equalJitter. Set by tests that assert exact times.
	jitter func(time.Duration) time.Duration

	// Set by connect, read-only afterwards.
	self  *mm.User
	teams []*mm.Team // the configured teams, in order
	dir   *directory
	tr    *translator

	mu  sync.Mutex
	dms map[string]string // guarded by mu: user id → direct channel id
	ws  *mm.WebSocket     // guarded by mu: the current one, nil between

	// For Ready, written by the event loop. hello is the connection id
	// of the last hello handled (HandleConnect returned), nil before the
	// first; catching is set while a catch-up reads; behindN is
	// len(behind).
	hello    atomic.Pointer[string]
	catching atomic.Bool
	behindN  atomic.Int32
	// rejected is set while the server does not take the bot's
	// credentials (see regainCredentials).
	rejected atomic.Bool

	// Owned by the event loop (Run's goroutine).
	seen       window // ids of the posts delivered, against replays
	lastPostAt int64  // create_at (ms) of the newest post delivered
	hellos     int    // hello events seen
	// contactAt is when the bot first asked the server (ms, its own
	// clock), and loginPosts each channel's last_post_at (the server's
	// clock) as the login listed it: on a first run with the store, the
	// catch-up reads from there (catchUpStart), and drops them.
	contactAt  int64
	loginPosts map[string]int64
	// gapSince, when set, is when the last connection ended for good
	// (its credentials refused): the next connection is a new one,
	// whose hello starts a catch-up from there.
	gapSince time.Time
	loops    loopGuard
	ignored  recent // ids of the other bots whose posts were skipped, logged once each
	// perTeamListing: the server lacks GET /users/me/channels (before
	// 6.1), so catch-up lists the bot's channels per team.
	perTeamListing bool
	statuses       map[string]string // user id → status last seen
	// Channels whose catch-up is retried in the background, with the
	// live posts held until it is done (see fetchLater).
	behind map[string]*behind
	// replied holds the ids of posts the bot has answered, as its own
	// posts say (PropReplyTo): a catch-up never delivers them again.
	// Its window goes by the create_at of the answers.
	replied window
	// readsFrom counts the background catch-up reads not done yet by
	// the time (ms) they read from: the duplicate guards keep what
	// they may read again (see guardFloor).
	readsFrom map[int64]int

	// pos tracks how far each channel is handled, for a catch-up after
	// a restart; nil without Options.Store. savedAt is when the last run
	// last saved them (ms), and hasSaved whether it saved any; set by
	// Run.
	pos      *positions
	savedAt  int64
	hasSaved bool
	// loaded is set once Run has read the saved positions: until then,
	// a save would overwrite them with nothing.
	loaded atomic.Bool

	// Background catch-up reads: they run under bgCtx (Run's), report
	// on caught, and Run waits for them before it returns.
	bgCtx  context.Context
	bg     sync.WaitGroup
	caught chan caughtUp
	// polled carries the statuses of a presence poll to the event loop.
	polled chan []*mm.Status

	// ob keeps the posts the server could not take; nil when
	// Options.OutboxMaxAge is negative.
	ob *outbox
	// sending counts the Sends in flight, which Close waits for.
	sending inflight
	// slash holds the registered slash commands and their runs.
	slash slashState
	// answers holds the bot's replies to recent posts, for re-runs on
	// edit.
	answers answers
	// lk holds the posts waiting for their senders to be looked up;
	// the lookups report on looked. Owned by the event loop.
	lk     lookups
	looked chan lookedUp
}

var (
	_ bot.Backend         = (*Backend)(nil)
	_ bot.Readiness       = (*Backend)(nil)
	_ bot.Typer           = (*Backend)(nil)
	_ bot.EphemeralSender = (*Backend)(nil)
	_ bot.FileOpener      = (*Backend)(nil)
)

// New checks opts and returns a Backend; it does not connect. It fails
// when the server or the credentials are missing or contradictory.
func New(opts Options) (*Backend, error) {
	o := opts
	if o.Scheme == "" {
		o.Scheme = DefaultScheme
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxMessageRunes <= 0 || o.MaxMessageRunes > mm.PostMessageMaxRunes {
		o.MaxMessageRunes = mm.PostMessageMaxRunes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PresenceInterval == 0 {
		o.PresenceInterval = DefaultPresenceInterval
	}
	if o.OutboxMaxAge == 0 {
		o.OutboxMaxAge = DefaultOutboxMaxAge
	}
	if o.CatchUp == 0 {
		o.CatchUp = DefaultCatchUp
	}
	if o.UserCache < 0 {
		return nil, fmt.Errorf("mattermost: negative UserCache %d", o.UserCache)
	}
	if o.ActionLifetime == 0 {
		o.ActionLifetime = DefaultActionLifetime
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	site, err := siteURL(o.Server, o.Scheme, o.Port)
	if err != nil {
		return nil, err
	}
	if o.Retry, err = o.Retry.withDefaults(); err != nil {
		return nil, err
	}
	switch {
	case o.Token != "" && (o.Login != "" || o.Password != ""):
		return nil, errors.New("mattermost: set a token or a login and password, not both")
	case o.Token == "" && (o.Login == "" || o.Password == ""):
		return nil, errors.New("mattermost: no credentials: set a token, or a login and password")
	}
	for _, t := range o.Teams {
		if strings.TrimSpace(t) == "" {
			return nil, errors.New("mattermost: empty team name")
		}
	}
	for _, u := range o.IgnoreUsers {
		if strings.TrimPrefix(strings.TrimSpace(u), "@") == "" {
			return nil, fmt.Errorf("mattermost: empty user name %q in IgnoreUsers", u)
		}
	}
	c, err := mm.NewClient(site, o.Token, &mm.ClientOptions{
		HTTPClient: o.HTTPClient,
		Logger:     o.Logger,
		Timeout:    o.Timeout,
		Insecure:   o.Insecure,
		Login:      o.Login,
		Password:   o.Password,
		MFAToken:   o.MFAToken,
		RateLimit:  o.RateLimit,
		// One time scale for both layers (see RetryPolicy): with the
		// defaults, the client's own defaults (500ms, 15s).
		RetryBackoff:    max(o.Retry.Base/2, time.Nanosecond),
		MaxRetryBackoff: o.Retry.Max,
		Observer:        o.Observer,
	})
	if err != nil {
		return nil, err
	}
	var ob *outbox
	if o.OutboxMaxAge > 0 {
		ob = newOutbox(o.Store, o.OutboxMaxAge, o.Observer)
	}
	var pos *positions
	if o.Store != nil {
		pos = newPositions(o.Store)
	}
	return &Backend{
		ob:      ob,
		pos:     pos,
		replied: newWindow(guardKeep),
		opts:    o,
		url:     site,
		log:     o.Logger,
		client:  c,
		limit:   o.MaxMessageRunes,
		dms:     map[string]string{},
		seen:    newWindow(guardKeep),
		loops:   newLoopGuard(o.LoopLimit, o.LoopWindow),
		ignored: newRecent(1024),
		behind:  map[string]*behind{},
		caught:  make(chan caughtUp),
		looked:  make(chan lookedUp),
		polled:  make(chan []*mm.Status),
	}, nil
}

// siteURL builds the server's site URL from the seed's settings.
func siteURL(server, scheme string, port int) (string, error) {
	server = strings.TrimSpace(server)
	if server == "" {
		return "", errors.New("mattermost: no server")
	}
	if strings.Contains(server, "://") {
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("mattermost: bad server URL %q: want http(s)://host[:port]", server)
		}
		return strings.TrimRight(u.String(), "/"), nil
	}
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("mattermost: bad scheme %q: want https or http", scheme)
	}
	if port < 1 || port > 65535 {
		return "", fmt.Errorf("mattermost: bad port %d", port)
	}
	if strings.ContainsAny(server, "/?#@ ") {
		return "", fmt.Errorf("mattermost: bad server %q: want a host name", server)
	}
	return scheme + "://" + net.JoinHostPort(server, strconv.Itoa(port)), nil
}

// Client returns the REST client the backend uses, for plugins that need
// more of the API than the bot package offers.
func (b *Backend) Client() *mm.Client { return b.client }

// connect logs in, checks the teams and loads the bot's channels. Every
// error is final: a server that rejects the credentials will not accept
// them a second later, and a bot that cannot start should say why at once.
func (b *Backend) connect(ctx context.Context) error {
	var (
		me  *mm.User
		err error
	)
	if b.ob != nil {
		// Before the first Send: a reply goes behind those kept by an
		// earlier run. A store that cannot be read leaves its posts
		// there, for the next run.
		if err := b.ob.load(ctx, b.log); err != nil {
			b.log.Warn("outbox not read", "err", err)
		}
	}
	b.contactAt = b.now()
	// The first contact, retries included, takes at most Timeout: a
	// server that never answers is reported after Timeout, not after
	// each retry's Timeout and the waits between them.
	fctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	if b.opts.Token == "" {
		me, _, err = b.client.Login(fctx, b.opts.Login, b.opts.Password, b.opts.MFAToken)
	} else {
		me, _, err = b.client.Me(fctx)
	}
	cancel()
	if err != nil {
		if ctx.Err() == nil && b.speaksTLS(ctx, err) {
			return startupErr(err, "%s is a TLS port: set scheme = \"https\"", b.url)
		}
		return b.startupError(err)
	}
	b.self = me
	dopts := dirOptions{users: b.opts.UserCache, usersTTL: b.opts.UserCacheTTL, now: b.opts.Now}
	if o := b.opts.Observer; o != nil {
		dopts.observe = func(hit bool) { o.ObserveCache(CacheUsers, hit) }
	}
	b.dir = newDirectory(clientLookup{b.client}, me.ID, dopts)
	if b.pos != nil {
		b.pos.intern = b.dir.channelID
	}
	b.dir.putUser(me)
	b.tr = &translator{dir: b.dir, self: me.ID, site: b.url, allowBots: b.opts.AllowBots, allowWebhooks: b.opts.AllowWebhooks}
	if err := b.resolveIgnored(ctx); err != nil {
		return err
	}

	mine, _, err := b.client.MyTeams(ctx)
	if err != nil {
		return b.startupError(err)
	}
	member := map[string]bool{}
	for _, t := range mine {
		member[t.ID] = true
		b.dir.putTeam(t)
	}
	names := b.opts.Teams
	if len(names) == 0 {
		// Every team the bot is in, in name order so that the default
		// team does not depend on the server's order.
		for _, t := range mine {
			names = append(names, t.Name)
		}
		slices.Sort(names)
	}
	if len(names) == 0 {
		b.log.Info("logged in", "user_id", me.ID, "username", me.Username, "teams", 0)
		b.connected.Store(true)
		return nil
	}
	b.teams = b.teams[:0]
	for _, name := range names {
		t, err := b.dir.teamByName(ctx, name)
		if errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) {
			// The server hides the teams a user may not see.
			return startupErr(err, "team %q not found on %s, or %s is not a member of it", name, b.url, me.Username)
		}
		if err != nil {
			return b.startupError(err)
		}
		if !member[t.ID] {
			return startupErr(nil, "%s is not a member of team %q: add the bot to the team", me.Username, name)
		}
		b.teams = append(b.teams, t)
		// One at a time: a bot in ten thousand channels does not hold
		// them all, whole, at once.
		if _, err := b.client.MyChannelsFunc(ctx, t.ID, b.loginListed); err != nil {
			return b.startupError(err)
		}
	}
	b.tr.defaultTeam = b.teams[0].ID
	if len(b.opts.Teams) > 0 {
		b.tr.served = map[string]bool{}
		for _, t := range b.teams {
			b.tr.served[t.ID] = true
		}
	}
	b.log.Info("logged in", "user_id", me.ID, "username", me.Username, "teams", len(b.teams))
	b.connected.Store(true)
	return nil
}

// resolveIgnored finds the users of Options.IgnoreUsers. An unknown name
// is a startup error: a typo would let the bot it meant answer.
func (b *Backend) resolveIgnored(ctx context.Context) error {
	if len(b.opts.IgnoreUsers) == 0 {
		return nil
	}
	b.tr.ignored = map[string]bool{}
	for _, name := range b.opts.IgnoreUsers {
		name = strings.TrimPrefix(strings.TrimSpace(name), "@")
		u, err := b.dir.userByName(ctx, name)
		if errors.Is(err, mm.ErrNotFound) {
			return startupErr(err, "ignore_users: no user @%s on %s", name, b.url)
		}
		if err != nil {
			return b.startupError(err)
		}
		b.tr.ignored[u.ID] = true
	}
	return nil
}

// errNotConnected is returned by methods called before Run connected.
var errNotConnected = errors.New("mattermost: not connected yet")

// startupError turns a failure to connect into one line that says what to
// fix.
func (b *Backend) startupError(err error) error {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		verify     *tls.CertificateVerificationError
		recordHdr  tls.RecordHeaderError
		dnsErr     *net.DNSError
		opErr      *net.OpError
		apiErr     *mm.APIError
		wantsLogin = b.opts.Token == ""
	)
	mfaID := ""
	if errors.As(err, &apiErr) && wantsLogin {
		mfaID = apiErr.ID
	}
	var (
		foreign *mm.NotMattermostError
		netErr  net.Error
	)
	isForeign := errors.As(err, &foreign)
	switch {
	case isForeign && (foreign.StatusCode == http.StatusBadGateway ||
		foreign.StatusCode == http.StatusServiceUnavailable || foreign.StatusCode == http.StatusGatewayTimeout):
		return startupErr(err, "%s answered %s with %s: is it a proxy whose Mattermost server is down?", b.url, foreign.Path, foreign.Answer())
	case isForeign:
		return startupErr(err, "%s is not a Mattermost server (%s answered %s): check the server, port and scheme", b.url, foreign.Path, foreign.Answer())
	case mfaID == "mfa.validate_token.authenticate.app_error" && b.opts.MFAToken == "":
		return startupErr(err, "%s wants an MFA code for %q: set mfa_token, or use an access token", b.url, b.opts.Login)
	case mfaID == "mfa.validate_token.authenticate.app_error", mfaID == "api.user.check_user_mfa.bad_code.app_error":
		return startupErr(err, "%s rejected the MFA code for %q: a code is good once, for about 30 seconds", b.url, b.opts.Login)
	case errors.Is(err, mm.ErrUnauthorized) && wantsLogin:
		return startupErr(err, "%s rejected the login %q: check the login, password and MFA code", b.url, b.opts.Login)
	case errors.Is(err, mm.ErrUnauthorized):
		return startupErr(err, "%s rejected the token: check that it is valid and not revoked", b.url)
	case errors.As(err, &verify), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		return startupErr(err, "TLS certificate of %s not trusted (%v); for a self-signed certificate set insecure = true", b.url, rootCause(err))
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &recordHdr):
		return startupErr(err, "%s does not speak TLS; set scheme = \"http\" or the right port", b.url)
	case errors.As(err, &dnsErr):
		return startupErr(err, "cannot resolve %s: %v", b.url, rootCause(err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return startupErr(err, "%s did not answer within %v (timeout)", b.url, b.opts.Timeout)
	case errors.As(err, &opErr):
		return startupErr(err, "cannot reach %s: %v", b.url, rootCause(err))
	case errors.As(err, &apiErr):
		return startupErr(err, "%s: %v", b.url, err)
	}
	return startupErr(err, "cannot connect to %s: %v", b.url, err)
}

// speaksTLS reports whether the server, asked in plain HTTP, is a TLS
// port: the request failed in a way a TLS port explains (an answer that
// is not Mattermost's: Go, nginx and Apache answer 400 to plain HTTP on a
// TLS port; or no answer at all), and a TLS handshake with the same
// address succeeds. The opposite mistake, https to a plain port, the
// client tells by itself (http.ErrSchemeMismatch).
func (b *Backend) speaksTLS(ctx context.Context, err error) bool {
	u, perr := url.Parse(b.url)
	if perr != nil || u.Scheme != "http" {
		return false
	}
	var (
		foreign *mm.NotMattermostError
		apiErr  *mm.APIError
		dnsErr  *net.DNSError
	)
	switch {
	case errors.As(err, &foreign):
	case errors.As(err, &apiErr), errors.As(err, &dnsErr), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED):
		// An answer of the server's, or nothing there to ask.
		return false
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	ctx, cancel := context.WithTimeout(ctx, min(b.opts.Timeout, 5*time.Second))
	defer cancel()
	// Nothing is sent over the connection: only whether the handshake
	// succeeds matters, whoever signed the certificate.
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a probe, no data sent
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close() // nothing was written; a close error changes nothing
	return true
}

// rootCause returns the innermost error of a chain, whose text is the
// part worth showing ("connection refused").
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Run connects (unless Connect did), opens the WebSocket, calls
// h.HandleConnect when the server says hello (again after each fresh
// reconnection), and delivers the server's events to h until ctx is
// done; then it returns nil.
//
// It returns an error, at once and without retrying, when at start the
// server cannot be reached or rejects the credentials, or a team is
// unknown or lacks the bot; and when HandleConnect fails. A dropped
// WebSocket is reconnected; events missed meanwhile are fetched over
// REST. An expired password session is renewed by logging in again.
// Credentials the server stops taking while the bot runs (a token
// revoked or disabled, the account deactivated, a server being restored)
// are tried again until it takes them, with a log line each time, and
// what was posted meanwhile is then caught up (see regainCredentials).
// After a reset of the server (a fake server restarted), Run goes on if
// the server knows the bot as the same account, and returns an error
// saying so if it knows the credentials as another account.
// Run may be called once.
func (b *Backend) Run(ctx context.Context, h bot.Handler) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("mattermost: Backend.Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	// Last: the positions the handlers reported so far are saved once
	// the background goroutines are done; Close saves again once the
	// engine has drained.
	defer b.savePositions(context.WithoutCancel(ctx), true)
	defer b.bg.Wait()
	defer cancel() // first: stops the background catch-up reads
	b.bgCtx = ctx
	if !b.connected.Load() {
		if err := b.connect(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // stopped while connecting
			}
			return err
		}
	}
	if every := b.opts.PresenceInterval; every > 0 {
		b.bg.Go(func() { b.pollPresence(ctx, every) })
	}
	if b.ob != nil {
		b.bg.Go(func() { b.runOutbox(ctx) })
	}
	if b.pos != nil {
		b.loadPositions(ctx)
		b.bg.Go(func() { b.savePositionsEvery(ctx, positionsSaveInterval) })
	}
	for {
		hellos := b.hellos
		err := b.serve(ctx, h)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, mm.ErrUnauthorized) {
			return err
		}
		if b.hellos == hellos && !sleep(ctx, equalJitter(max(b.opts.WebSocket.MinBackoff, mm.DefaultMinBackoff/10))) {
			// Refused again before any hello, though the credentials
			// checked out: a pause, so that such a server is not asked
			// in a loop.
			return nil
		}
		// The next connection is a new one: what was posted meanwhile
		// is read when its hello comes.
		if b.gapSince.IsZero() {
			b.gapSince = time.Now()
		}
		if err := b.regainCredentials(ctx, err); err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// sleep waits d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// regainCredentials runs when the server stops taking the bot's
// credentials while it runs, cause saying so. A password session that
// expired is renewed by logging in again. Otherwise (a token revoked or
// disabled, the account deactivated, a password changed, a server being
// restored) it tries again until the server takes them, or ctx is done:
// GET /users/me for a token, a login for a password, after waits that
// double from the WebSocket's MinBackoff to its MaxBackoff, saying so
// in the log each time. Meanwhile Ready says why, replies wait in the
// outbox, and the bot does not exit: under a supervisor, a bot that exits
// is restarted, fails its start at once for the same reason, and the
// supervisor soon gives up (systemd's StartLimitBurst), so a token
// disabled for a minute would stop the bot for good. It returns an error
// only when the server knows the credentials as another account (a
// reset server: see anotherAccount).
func (b *Backend) regainCredentials(ctx context.Context, cause error) error {
	what := "token"
	if b.opts.Token == "" {
		what = "login " + strconv.Quote(b.opts.Login)
		b.log.Warn("session expired, logging in again")
	}
	minWait, maxWait := b.opts.WebSocket.MinBackoff, b.opts.WebSocket.MaxBackoff
	if minWait <= 0 {
		minWait = mm.DefaultMinBackoff
	}
	if maxWait <= 0 {
		maxWait = mm.DefaultMaxBackoff
	}
	start, wait := time.Now(), max(minWait, time.Millisecond)
	defer b.rejected.Store(false)
	for attempt := 0; ; attempt++ {
		me, err := b.checkCredentials(ctx)
		switch {
		case err == nil && me.ID != b.self.ID:
			return b.anotherAccount(me.ID)
		case err == nil && attempt == 0:
			if b.opts.Token != "" {
				b.log.Warn("the server refused the bot's token on its socket, and takes it again: reconnecting", "err", cause)
			}
			return nil
		case err == nil:
			b.log.Info("the server accepts the bot's "+what+" again", "after", time.Since(start).Round(time.Millisecond))
			return nil
		case ctx.Err() != nil:
			return nil
		case attempt == 0:
			b.rejected.Store(true)
			b.log.Error("the server no longer accepts the bot's "+what+"; trying again until it does", "url", b.url,
				"hint", "was it revoked or disabled, the account deactivated, or the server reset?", "err", err)
		default:
			b.log.Warn("the server still does not accept the bot's "+what, "attempt", attempt, "next_in", wait, "err", err)
		}
		t := time.NewTimer(equalJitter(wait))
		wait = min(2*wait, max(maxWait, minWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// checkCredentials asks the server who the bot's credentials are: GET
// /users/me with a token, a login with a password.
func (b *Backend) checkCredentials(ctx context.Context) (*mm.User, error) {
	if b.opts.Token != "" {
		me, _, err := b.client.Me(ctx)
		return me, err
	}
	me, _, err := b.client.Login(ctx, b.opts.Login, b.opts.Password, b.opts.MFAToken)
	return me, err
}

// The reasons Ready gives.
var (
	errConnecting   = errors.New("connecting")
	errReconnecting = errors.New("websocket disconnected: reconnecting")
	errCatchingUp   = errors.New("catching up")
	errRejected     = errors.New("the server does not accept the bot's credentials: trying again")
)

// Ready implements bot.Readiness. The backend is ready once it is logged
// in, its WebSocket is connected and the engine has handled the hello of
// that connection (or of the connection it resumed), and the catch-up of
// the events missed while it was down is done, background reads
// included. Otherwise the error says which: "connecting" until the first
// hello, "websocket disconnected: reconnecting" while the socket is down
// (or the bot logs in again), "catching up" from a fresh connection
// after a loss until the posts missed are read, "the server does not
// accept the bot's credentials" while it refuses them (see Run).
func (b *Backend) Ready() error {
	hello := b.hello.Load()
	switch {
	case !b.connected.Load():
		return errConnecting
	case hello == nil && b.catching.Load():
		return errCatchingUp // the first hello's: what came after the login
	case hello == nil:
		return errConnecting
	}
	if b.rejected.Load() {
		return errRejected
	}
	b.mu.Lock()
	ws := b.ws
	b.mu.Unlock()
	if ws == nil {
		return errReconnecting
	}
	id, ok := ws.Connection()
	switch {
	case !ok:
		return errReconnecting
	case id != *hello, b.catching.Load(), b.behindN.Load() > 0:
		// A connection whose hello is not handled yet comes after a
		// loss: its EventMissed, and the catch-up, come first.
		return errCatchingUp
	}
	return nil
}

// anotherAccount is the error of a server that now knows the bot's
// credentials as another account than the one the bot started as: it was
// reset (a fake server restarted, a database restored), and every id the
// bot holds (its own, the admins', the rooms') may be wrong. The bot
// stops rather than answer as someone else, or answer itself; a
// supervisor that restarts it starts it afresh in the new world.
func (b *Backend) anotherAccount(id string) error {
	return startupErr(nil, "%s now knows the bot as another account (user id %s, was %s): the server was reset; restart matterbot",
		b.url, id, b.self.ID)
}

// SetPresence implements bot.PresenceSetter: PUT /users/{id}/status for
// the bot itself.
func (b *Backend) SetPresence(ctx context.Context, status string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	if _, _, err := b.client.UpdateUserStatus(ctx, b.self.ID, status); err != nil {
		return fmt.Errorf("mattermost: set presence %s: %w", status, err)
	}
	return nil
}

// Close implements bot.Closer: it waits, while ctx lasts, for the Sends
// still in flight to return (a reply whose context has ended is being
// kept in the outbox, and the store must not close before), then a bot
// that logged in with a password logs out, so that the session it opened
// does not linger on the server until it expires, as Errbot's backend did
// on shutdown. A token is left alone: it is the operator's to revoke.
// Close is for after Run has returned and the replies' contexts have
// ended.
func (b *Backend) Close(ctx context.Context) error {
	b.sending.wait(ctx)
	// The handlers have drained and the Sends ended: the positions are
	// final.
	b.savePositions(ctx, true)
	// A session of our own login is closed even when the start failed
	// after it (an unknown team): it would outlive the process otherwise.
	if b.opts.Token != "" || b.client.Token() == "" {
		return nil
	}
	if _, err := b.client.Logout(ctx); err != nil {
		return fmt.Errorf("mattermost: log out: %w", err)
	}
	b.log.Info("logged out")
	return nil
}

// serve runs one WebSocket until it fails for good (the token was
// rejected) or ctx is done, handling its events in order.
func (b *Backend) serve(ctx context.Context, h bot.Handler) error {
	wsOpts := b.opts.WebSocket
	wsOpts.HTTPClient = b.client.HTTPClient()
	wsOpts.Logger = b.log
	wsOpts.Observer = b.opts.Observer
	if wsOpts.DialTimeout <= 0 {
		wsOpts.DialTimeout = b.opts.Timeout
	}
	ws, err := mm.NewWebSocket(b.url, b.client.Token(), &wsOpts)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.ws = ws
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.ws = nil
		b.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1) // size 1: Run's result never blocks
	go func() { errc <- ws.Run(ctx) }()

	var fatal error
	events := ws.Events() // closed when ws.Run returns
	for events != nil {
		select {
		case ev, ok := <-events:
			switch {
			case !ok:
				events = nil
			case fatal != nil:
				// drain
			default:
				if err := b.handle(ctx, h, ev); err != nil {
					fatal = err
					cancel()
				}
			}
		case r := <-b.caught:
			// A background catch-up read is done; handled here so that
			// every delivery stays in the event loop, in order.
			if fatal == nil {
				b.caughtUpIn(ctx, h, r)
			}
		case ss := <-b.polled:
			if fatal == nil {
				b.presenceIn(h, ss)
			}
		case r := <-b.looked:
			// Senders looked up in the background: their posts are
			// delivered here, in order.
			if fatal == nil {
				b.lookedUpIn(ctx, h, r)
			}
		}
	}
	if err := <-errc; fatal == nil {
		fatal = err
	}
	return fatal
}

// handle delivers one event. Only a failed HandleConnect, or a hello
// for another account than the bot's (a reset server), is returned:
// anything else is logged and the event dropped, so that one bad event
// never stops the bot.
func (b *Backend) handle(ctx context.Context, h bot.Handler, ev *mm.Event) error {
	b.dir.apply(ev)
	switch p := ev.Payload.(type) {
	case *mm.HelloEvent:
		// Events flow from here on. A hello after the first means a
		// fresh connection after a drop: the engine re-reads what it
		// resolved at connect (admins, say).
		b.log.Debug("websocket hello", "connection_id", p.ConnectionID)
		if id := ev.Broadcast.UserID; id != "" && id != b.self.ID {
			return b.anotherAccount(id)
		}
		b.hellos++
		if err := h.HandleConnect(ctx, botUser(b.self)); err != nil {
			return err
		}
		if b.hellos == 1 {
			b.startSlash(ctx, h)
		}
		switch {
		case b.hellos == 1:
			// Before the hello counts as handled: Ready says
			// "catching up" meanwhile.
			b.catchUpStart(ctx, h)
		case !b.gapSince.IsZero():
			// A new connection after the credentials were refused (or
			// a password session renewed): nothing says what was
			// missed, so everything since is read.
			gap := &mm.EventsMissed{Since: b.gapSince}
			b.gapSince = time.Time{}
			b.catchUp(ctx, h, gap)
		}
		id := p.ConnectionID
		b.hello.Store(&id)
		if b.ob != nil {
			b.ob.kick() // the server answers: send what waits
		}
		return nil
	case *mm.PostedEvent:
		if in := fromEvent(p); !b.hold(in) {
			b.deliver(ctx, h, in)
		}
	case *mm.EventsMissed:
		b.catchUp(ctx, h, p)
	case *mm.PostEditedEvent, *mm.ReactionEvent, *mm.UserAddedEvent, *mm.UserRemovedEvent:
		b.event(ctx, h, ev, nil)
	case *mm.StatusChangeEvent:
		if old, seen := b.noteStatus(p.UserID, p.Status); seen && old == p.Status {
			return nil // already delivered from a poll
		}
		// The server sends a status_change only to the user it is
		// about (see presence.go): this is the bot's own, which the
		// directory always holds. Anyone else's is delivered only if
		// the directory holds them, as a poll's would be (presenceIn),
		// not looked up: nothing asked about that user.
		u := b.dir.cachedUser(p.UserID)
		if u == nil {
			b.log.Debug("status of unknown user", "user_id", p.UserID)
			return nil
		}
		h.HandlePresence(&bot.Presence{User: botUser(u), Status: p.Status})
	}
	return nil
}

// event delivers an event other than a post that names a user: an edit
// (edited), a reaction, a user added to or removed from a channel. From
// the socket (a nil), it waits, like a post (see waits), while its user
// is looked up, or while earlier items of its user or channel wait; a
// is the answer of the lookup it waited for.
func (b *Backend) event(ctx context.Context, h bot.Handler, ev *mm.Event, a *lookupAnswer) {
	switch p := ev.Payload.(type) {
	case *mm.PostEditedEvent:
		b.edited(ctx, h, ev, p.Post, a)
	case *mm.ReactionEvent:
		b.reaction(ctx, h, ev, p, a)
	case *mm.UserAddedEvent:
		b.added(ctx, h, ev, p, a)
	case *mm.UserRemovedEvent:
		b.leave(ctx, h, ev, p, a)
	}
}

// added delivers a user_added event as a bot.Join.
func (b *Backend) added(ctx context.Context, h bot.Handler, ev *mm.Event, p *mm.UserAddedEvent, a *lookupAnswer) {
	if a == nil && b.eventWaits(ev, p.UserID, p.ChannelID) {
		return
	}
	u, err := b.userOf(ctx, p.UserID, a)
	if err != nil {
		b.log.Debug("join of unknown user", "user_id", p.UserID, "err", err)
		return
	}
	room, _, _, err := b.tr.room(ctx, p.ChannelID, incoming{})
	if err != nil {
		b.log.Debug("join in unknown channel", "channel_id", p.ChannelID, "err", err)
		return
	}
	h.HandleJoin(&bot.Join{User: botUser(u), Room: room})
}

// leave delivers a user_removed event as a bot.Leave, when h takes them.
// The bot's own event has no user id: it goes to the removed user only,
// as the channel's broadcast no longer reaches it
// (server/channels/app/channel.go removeUserFromChannel). A private
// channel the bot
// was removed from can no longer be read: the room is then the cached
// channel, or its id alone.
func (b *Backend) leave(ctx context.Context, h bot.Handler, ev *mm.Event, p *mm.UserRemovedEvent, a *lookupAnswer) {
	lh, ok := h.(bot.LeaveHandler)
	if !ok {
		return
	}
	uid := p.UserID
	switch uid {
	case b.self.ID:
		// The channel's copy, should it still reach us: the bot's own
		// event below is the one delivered.
		return
	case "":
		uid = b.self.ID
	}
	if a == nil && b.eventWaits(ev, uid, p.ChannelID) {
		return
	}
	u, err := b.userOf(ctx, uid, a)
	if err != nil {
		b.log.Debug("leave of unknown user", "user_id", uid, "err", err)
		return
	}
	room, _, _, err := b.tr.room(ctx, p.ChannelID, incoming{})
	if err != nil {
		b.log.Debug("leave of unreadable channel", "channel_id", p.ChannelID, "err", err)
		room = bot.Room{ID: p.ChannelID}
	}
	lh.HandleLeave(&bot.Leave{User: botUser(u), Room: room})
}

// deliver hands a post to the engine once: replays after a reconnect and
// catch-up overlaps are dropped by post id. It reports whether the post
// reached the engine.
func (b *Backend) deliver(ctx context.Context, h bot.Handler, in incoming) bool {
	p := in.post
	if !b.seen.add(p.ID, p.CreateAt, b.guardFloor()) {
		b.log.Debug("post already delivered", "post_id", p.ID)
		return false
	}
	if p.CreateAt > b.lastPostAt {
		b.lastPostAt = p.CreateAt
	}
	if p.UserID == b.self.ID {
		if replyTo, ok := p.Props[PropReplyTo].(string); ok && replyTo != "" {
			b.loops.answered(replyTo, p.CreateAt)
			b.replied.add(replyTo, p.CreateAt, b.guardFloor())
			b.answers.add(replyTo, p.ID)
		}
	}
	if b.waits(in) {
		return true
	}
	return b.handOver(ctx, h, in)
}

// handOver gives a post to the engine, unless it is not the engine's
// business (see translator.skip), its sender or channel cannot be
// resolved, or a loop is suspected; it reports whether the engine got
// it. Every post not given is handled at once in its channel's position.
func (b *Backend) handOver(ctx context.Context, h bot.Handler, in incoming) bool {
	p := in.post
	m, err := b.tr.message(ctx, in)
	if err != nil {
		b.log.Warn("post dropped", "post_id", p.ID, "channel_id", p.ChannelID, "err", err)
		b.track(in, nil)
		return false
	}
	if m == nil {
		b.skipped(ctx, p)
		b.track(in, nil)
		return false
	}
	if fromProgram(p, m) {
		// People are never counted: only the programs let in on
		// purpose (AllowBots, AllowWebhooks) may be looping.
		switch b.loops.check(p.UserID, p.ChannelID, p.ID, p.CreateAt) {
		case loopTripped:
			b.log.Warn("loop suspected: ignoring a program in a channel", "user_id", p.UserID, "channel_id", p.ChannelID,
				"answers", b.loops.limit, "window", time.Duration(b.loops.window)*time.Millisecond)
			b.track(in, nil)
			return false
		case loopMuted:
			b.log.Debug("post skipped", "post_id", p.ID, "why", "loop suspected")
			b.track(in, nil)
			return false
		}
	}
	b.track(in, m)
	h.HandleMessage(m)
	return true
}

// track notes a post in the channels' positions (Options.Store): handled
// now, or, with m, when the engine is done with m (Message.Handled). A
// post counted already while it waited for its sender (in.handled) is
// not counted again. The bot's own posts are left out: a channel's
// position stays before them, so that a catch-up after a restart reads
// them and learns which commands they answer.
func (b *Backend) track(in incoming, m *bot.Message) {
	p := in.post
	if b.pos == nil || p.UserID == b.self.ID {
		return
	}
	switch {
	case in.handled != nil && m == nil:
		in.handled(true)
	case in.handled != nil:
		m.Handled = in.handled
	case m == nil:
		b.pos.handled(p.ChannelID, keyOf(p))
	default:
		m.Handled = b.pos.start(p.ChannelID, keyOf(p))
	}
}

// skipped notes a post the engine does not see. The first post of
// another bot (an account or a matterbot) says why in the log, once per
// sender; every skip is logged at debug.
func (b *Backend) skipped(ctx context.Context, p *mm.Post) {
	why := b.tr.skip(p)
	if (why == skipPeer || why == skipBot) && !fromWebhook(p) && b.ignored.add(p.UserID) {
		username := ""
		if u, err := b.dir.user(ctx, p.UserID); err == nil {
			username = u.Username
		}
		b.log.Info("ignoring the posts of another bot; set allow_bots to answer them", "user_id", p.UserID,
			"username", username, "channel_id", p.ChannelID, "why", why)
		return
	}
	// Guarded: the bot's own reply comes back this way for every
	// command, and the arguments alone cost allocations with the log
	// off.
	if b.log.Enabled(ctx, slog.LevelDebug) {
		if why == "" {
			why = "a bot's post, or a team left out"
		}
		b.log.Debug("post skipped", "post_id", p.ID, "why", why)
	}
}

// reaction delivers a reaction event, except the bot's own. Servers
// before 7 leave the reaction's channel_id out; the broadcast has it.
func (b *Backend) reaction(ctx context.Context, h bot.Handler, ev *mm.Event, p *mm.ReactionEvent, a *lookupAnswer) {
	r := p.Reaction
	if r == nil || r.UserID == b.self.ID {
		return
	}
	channelID := r.ChannelID
	if channelID == "" {
		channelID = ev.Broadcast.ChannelID
	}
	if a == nil && b.eventWaits(ev, r.UserID, channelID) {
		return
	}
	u, err := b.userOf(ctx, r.UserID, a)
	if err != nil {
		b.log.Debug("reaction of unknown user", "user_id", r.UserID, "err", err)
		return
	}
	rr := &bot.Reaction{MessageID: r.PostID, Emoji: r.EmojiName, User: botUser(u), Removed: ev.Type == mm.EventReactionRemoved}
	if channelID != "" {
		if room, _, _, err := b.tr.room(ctx, channelID, incoming{}); err == nil {
			rr.Room = room
		}
	}
	h.HandleReaction(rr)
}

// clientLookup is the directory's lookup over the REST client.
type clientLookup struct{ c *mm.Client }

func (l clientLookup) user(ctx context.Context, id string) (*mm.User, error) {
	u, _, err := l.c.User(ctx, id)
	return u, err
}

func (l clientLookup) usersByIDs(ctx context.Context, ids []string) ([]*mm.User, error) {
	us, _, err := l.c.UsersByIDs(ctx, ids)
	return us, err
}

func (l clientLookup) userByName(ctx context.Context, name string) (*mm.User, error) {
	u, _, err := l.c.UserByUsername(ctx, name)
	return u, err
}

func (l clientLookup) channel(ctx context.Context, id string) (*mm.Channel, error) {
	ch, _, err := l.c.Channel(ctx, id)
	return ch, err
}

func (l clientLookup) channelByName(ctx context.Context, teamID, name string) (*mm.Channel, error) {
	ch, _, err := l.c.ChannelByName(ctx, teamID, name)
	return ch, err
}

func (l clientLookup) team(ctx context.Context, id string) (*mm.Team, error) {
	t, _, err := l.c.Team(ctx, id)
	return t, err
}

func (l clientLookup) teamByName(ctx context.Context, name string) (*mm.Team, error) {
	t, _, err := l.c.TeamByName(ctx, name)
	return t, err
}

// recent is a bounded set of ids: it remembers the last n added.
type recent struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecent(n int) recent {
	return recent{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add records id and reports whether it was new.
func (r *recent) add(id string) bool {
	if _, ok := r.ids[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.ids[id] = struct{}{}
	return true
}
