package bolt

import bbolt "go.etcd.io/bbolt"

// Commits returns how many write transactions Set and Delete committed.
func Commits(s *Storage) int64 { return s.commits.Load() }

// Hold queues a write that, once its commit is under way, holds it
// until release is closed: the writes made meanwhile wait for the next
// commit, together. The channel returned receives the write's result.
func Hold(s *Storage, release <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- s.write(func(*bbolt.Tx) error {
			<-release
			return nil
		})
	}()
	return done
}

// NestBucket makes key, in plugin's bucket, a nested bucket: a key that
// no Put can replace (bbolt: incompatible value), so that a write of it
// fails inside its transaction, past the checks made before.
func NestBucket(s *Storage, plugin, key string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(pluginsBucket).CreateBucketIfNotExists([]byte(plugin))
		if err != nil {
			return err
		}
		_, err = b.CreateBucket([]byte(key))
		return err
	})
}
