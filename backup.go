package matterbot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/matterbot/matterbot/storage/bolt"
)

// backupCmd copies the plugins' store, consistently, while no bot holds
// it: bbolt locks the file for the life of the process that writes it.
type backupCmd struct {
	Store string `arg:"" type:"path" help:"The store to copy: the configuration's [storage] path (matterbot.db beside the configuration file by default)."`
	Out   string `arg:"" help:"The file to write, replaced at once when the copy is complete; - writes the copy to standard output." placeholder:"OUT"`
}

func (c *backupCmd) Run(e *env) error {
	if c.Out != "-" {
		if err := c.checkOut(); err != nil {
			return err
		}
	}
	s, err := bolt.Open(c.Store, &bolt.Options{ReadOnly: true})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &cliError{fmt.Sprintf("store %s not found: name the [storage] path of the configuration", c.Store), err}
	case errors.Is(err, bolt.ErrLocked):
		return &cliError{fmt.Sprintf("store %s is in use by a running bot: stop it (systemctl stop matterbot, docker stop ...), back up, start it again", c.Store), err}
	case err != nil:
		return err
	}
	defer s.Close()
	if c.Out == "-" {
		_, err := s.Backup(e.ctx, e.stdout)
		return err
	}
	n, err := c.write(e, s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "backed up %s to %s (%d bytes)\n", c.Store, c.Out, n)
	return err
}

// checkOut refuses an output that is a directory or the store itself:
// the rename that ends the copy would replace the store.
func (c *backupCmd) checkOut() error {
	out, err := os.Stat(c.Out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if out.IsDir() {
		return &cliError{fmt.Sprintf("%s is a directory: name the file to write, such as %s", c.Out, filepath.Join(c.Out, filepath.Base(c.Store))), nil}
	}
	if st, err := os.Stat(c.Store); err == nil && os.SameFile(st, out) {
		return &cliError{fmt.Sprintf("%s is the store itself: name another file", c.Out), nil}
	}
	return nil
}

// write copies s into a new file beside Out (mode 0600, as the store),
// checks that the copy opens as a store, and renames it to Out, so that
// Out is either the old file or the whole copy, never a part.
func (c *backupCmd) write(e *env, s *bolt.Storage) (n int64, err error) {
	f, err := os.CreateTemp(filepath.Dir(c.Out), "."+filepath.Base(c.Out)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()      // already failed: the first error is the one to report
			_ = os.Remove(tmp) // leave no partial copy behind
		}
	}()
	if n, err = s.Backup(e.ctx, f); err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, err
	}
	if err = f.Close(); err != nil {
		return n, err
	}
	copied, err := bolt.Open(tmp, &bolt.Options{ReadOnly: true})
	if err != nil {
		return n, fmt.Errorf("the copy does not open: %w", err)
	}
	if err = copied.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(tmp, c.Out)
}
