// Package storage is the home of matterbot's plugin storage engines, the
// implementations of bot.Storage:
//
//   - storage/bolt: the default, one bbolt file on disk, one bucket per
//     plugin. One process at a time (bbolt locks the file).
//   - storage/memory: in memory, for tests and the console backend.
//   - storage/storagetest: the conformance suite and benchmarks every
//     engine runs, so plugins behave the same on all of them.
//
// The engine opens one Storage at startup and hands each plugin its own
// bot.Store; a plugin sees only its own keys.
//
//	s, err := bolt.Open(cfg.Storage.Path, &bolt.Options{Logger: logger})
//	if err != nil {
//		return err
//	}
//	defer s.Close() // after the engine has stopped
//	// give s to the engine, which calls s.Store(name) once per plugin
//
// # A networked engine (not built)
//
// Running several replicas of the bot (for availability) needs a store
// they share: Redis or Postgres behind the same bot.Storage interface. What
// such an engine would need:
//
//   - Namespacing: a key prefix per plugin that cannot collide, e.g. Redis
//     keys "matterbot:{plugin}:" + key with the plugin name length-prefixed
//     or escaped (plugin "a" key "b:c" must differ from plugin "a:b" key
//     "c"); in Postgres a table (plugin text, key bytea, value bytea,
//     primary key (plugin, key)). A configurable global prefix lets several
//     bots share one server.
//   - Keys(prefix): Redis has no ordered scan of a keyspace; SCAN with MATCH
//     is unordered and O(all keys), so keep a sorted set per plugin of its
//     keys (ZADD/ZREM in the same MULTI as SET/DEL, ZRANGE BYLEX for the
//     prefix range). Postgres: WHERE plugin = $1 AND key >= $2 AND key < $3
//     (the prefix's successor), ORDER BY key, over the primary-key index.
//     Keys must compare as bytes (bytea, or COLLATE "C" text).
//   - Update: optimistic concurrency, which bot.Store already allows (fn may
//     run more than once). Redis: WATCH key, GET, run fn, MULTI/SET/EXEC,
//     retry on a nil EXEC, or a Lua CAS script comparing the old value.
//     Postgres: SELECT ... FOR UPDATE in a transaction, or a version column
//     and UPDATE ... WHERE version = $old, retrying on zero rows. Retries
//     need a bound and jittered backoff under contention, and must stop on
//     ctx cancellation.
//   - Context: every call honours ctx deadlines (the client's dial and
//     per-command timeouts), unlike the embedded engines where calls are
//     local and short.
//   - Errors: a network failure is not ErrNotFound; retry idempotent reads
//     (Get, Keys) on transient errors, never blindly retry a Set that may
//     have been applied out of order with a later one.
//   - Connection pool and lifecycle: Open dials and pings (a clear startup
//     error naming the address, as bolt names the file), Close drains the
//     pool; credentials come from config as a config.Secret and never appear
//     in errors or logs.
//   - Replicas also need what storage alone does not give: only one replica
//     should run schedules (p.Every) and answer each chat event, so the bot
//     needs leader election or a per-event lock (Redis SET NX PX, a
//     Postgres advisory lock). That belongs to the engine, not to Store.
//   - Values are opaque bytes up to some bound (Redis 512 MiB; bolt ~2 GiB);
//     the conformance suite fixes the common ground: keys 1..32768 bytes,
//     empty values allowed and distinct from absent.
//
// Such an engine passes storagetest.Run against a real server started by
// the test (behind an environment variable, as the live Mattermost suite
// is), and must not be the default: bolt needs no server.
package storage
