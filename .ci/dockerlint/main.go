// Command dockerlint runs the checks of `docker build --check` on a
// Dockerfile with no Docker engine: BuildKit's Dockerfile frontend parses
// the file, converts every stage and reports its lint warnings and
// errors. Base images are not pulled: each resolves to a made-up linux
// image config with Go's usual environment, so checks that depend on a
// base image's real config are approximate.
//
//	go run . ../../Dockerfile
//
// It exits 1 on any warning or error. It is a module of its own so that
// matterbot does not depend on BuildKit.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// offline resolves every base image to the same made-up config.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}}
	img.Config.Env = []string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOPATH=/go"}
	b, err := json.Marshal(img)
	return ref, digest.FromBytes(b), b, err
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerlint Dockerfile")
		os.Exit(2)
	}
	if err := lint(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(1)
	}
}

func lint(name string) error {
	ctx := context.Background()
	dt, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	src := llb.Scratch()
	def, err := src.Marshal(ctx)
	if err != nil {
		return err
	}
	sm := llb.NewSourceMap(&src, name, "Dockerfile", dt)
	sm.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		SourceMap:      sm,
		MetaResolver:   offline{},
		TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Fprintf(os.Stderr, "%s:%d: %s: %s\n", name, line, w.RuleName, w.Detail)
	}
	if res.Error != nil {
		return fmt.Errorf("%s: %s", name, res.Error.Message)
	}
	if n := len(res.Warnings); n > 0 {
		return fmt.Errorf("%s: %d warnings", name, n)
	}
	fmt.Printf("%s: no problems (BuildKit's checks)\n", name)
	return nil
}
