package matterbot

import (
	"context"
	"strings"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// reloader reloads the configuration file of a running bot, on SIGHUP.
type reloader struct {
	path string
	cur  *config.Config // the configuration in force
	eng  *bot.Engine
	logs *logSwitch
	// options maps a configuration onto the engine's options.
	options func(*config.Config) *bot.Options
}

// reloadTimeout bounds a reload: the resolution of the new admins and
// ACL names, and the wait for the running handlers of a plugin whose
// table changed.
const reloadTimeout = time.Minute

// watch reloads the configuration each time hup receives, until ctx is
// done; the returned stop ends the watch and waits for a reload in
// progress. With a nil hup it does nothing.
func (r *reloader) watch(ctx context.Context, hup <-chan struct{}) (stop func()) {
	if hup == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-hup:
				rctx, rcancel := context.WithTimeout(ctx, reloadTimeout)
				r.reload(rctx)
				rcancel()
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// reload reads the configuration file again and puts in force what can
// change while the bot runs: the engine's keys (prefixes, admins, access
// rules, plugin tables, ...) and [log]. A file with problems is logged,
// one line per problem, and changes nothing. The keys that changed but
// need a restart are named in one line and keep their old values.
func (r *reloader) reload(ctx context.Context) {
	log := r.logs.logger
	log.Info("reloading the configuration", "file", r.path)
	next, err := config.Load(r.path)
	if err != nil {
		for _, p := range problems(err) {
			log.Error("configuration not reloaded", "err", p)
		}
		return
	}
	var changed, restart []string
	for _, k := range config.Diff(r.cur, next) {
		if reloadable(k) {
			changed = append(changed, k)
		} else {
			restart = append(restart, k)
		}
	}
	kept := keepRestartKeys(r.cur, next)
	if err := r.eng.Reconfigure(ctx, r.options(kept)); err != nil {
		for _, p := range problems(err) {
			log.Error("configuration not reloaded", "err", p)
		}
		return
	}
	r.logs.set(kept.Log)
	r.cur = kept
	if len(restart) > 0 {
		log.Warn("configuration keys need a restart; old values kept", "keys", strings.Join(restart, ", "))
	}
	log.Info("configuration reloaded", "file", r.path, "changed", strings.Join(changed, ", "))
}

// reloadable reports whether the configuration key k (as config.Diff
// names it) takes effect without a restart.
func reloadable(k string) bool {
	switch k {
	case "prefix", "alt_prefixes", "suppress_cmd_not_found", "admins",
		"divert_to_thread", "divert_to_private", "groupchat_nick_prefixed", "typing_after":
		return true
	}
	for _, table := range []string{"access.", "plugins.", "log."} {
		if strings.HasPrefix(k, table) {
			return true
		}
	}
	return false
}

// keepRestartKeys returns next with the tables that need a restart
// ([mattermost], [storage], [http], and backend) as they are in cur.
func keepRestartKeys(cur, next *config.Config) *config.Config {
	kept := *next
	kept.Backend = cur.Backend
	kept.Mattermost = cur.Mattermost
	kept.Storage = cur.Storage
	kept.HTTP = cur.HTTP
	return &kept
}

// problems splits err into the problems it reports, each one line as
// main prints them: one per problem of a configuration file (with its
// file and line), one per problem Reconfigure found.
func problems(err error) []string {
	// errors.Join's error; an ErrorList, which also has Unwrap() []error,
	// is one error whose lines errorLines gives.
	if _, ok := err.(config.ErrorList); ok {
		return errorLines(err)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	return errorLines(err)
}
