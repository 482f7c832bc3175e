#!/usr/bin/env bash
# release.sh: build matterbot's release binaries. This is the one recipe;
# the Dockerfile runs the same go build (dockerfile_test.go compares them),
# so an image's binary is the release binary of its target, byte for byte,
# when both are built with the same Go release.
#
#   scripts/release.sh                      # linux/amd64 and linux/arm64 into dist/
#   scripts/release.sh linux/arm64          # the targets named
#   VERSION=v1.2.3 scripts/release.sh       # a version other than git describe's
#   scripts/release.sh --check linux/amd64  # build twice and compare (see below)
#
# Each binary is static (CGO_ENABLED=0: no libc to load), stripped (-s -w),
# holds no path of this machine (-trimpath) and no build ID, and says its
# version (matterbot version): git describe's, such as v1.2.3 or
# v1.2.3-4-gabc1234-dirty. dist/SHA256SUMS lists the binaries' sums.
#
# Reproducible: the same commit and the same Go release give the same bytes
# on any machine, in any directory. --check shows it: it builds each target
# a second time from a copy of the sources in another directory with an
# empty build cache, and fails unless the two sha256 sums are equal.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = --check ]; then
	check=true
	shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux/amd64 linux/arm64)
VERSION=${VERSION:-$(git describe --tags --always --dirty)}
DIST=${DIST:-dist}

# Nothing from the caller's environment may change the bytes: no CPU
# level, experiment or extra flag; the module graph as go.sum says.
unset GOAMD64 GOARM64 GOEXPERIMENT GOFLAGS
export GOTOOLCHAIN=local

# build OS ARCH OUT builds ./cmd/matterbot for OS/ARCH into OUT.
build() {
	CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -buildvcs=false \
		-ldflags "-s -w -buildid= -X github.com/matterbot/matterbot.version=$VERSION" \
		-o "$3" ./cmd/matterbot
}

echo "matterbot $VERSION, $(go version)"
mkdir -p "$DIST"
sums=()
for t in "${targets[@]}"; do
	os=${t%/*} arch=${t#*/}
	out="$DIST/matterbot-$VERSION-$os-$arch"
	build "$os" "$arch" "$out"
	sum=$(sha256sum "$out" | cut -d' ' -f1)
	sums+=("$sum  $(basename "$out")")
	echo "$sum  $out"
	if $check; then
		tmp=$(mktemp -d)
		trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
		mkdir "$tmp/src"
		git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$tmp/src"
		again=$(cd "$tmp/src" && GOCACHE="$tmp/cache" build "$os" "$arch" "$tmp/matterbot" && sha256sum "$tmp/matterbot" | cut -d' ' -f1)
		if [ "$again" != "$sum" ]; then
			echo "release: $t is not reproducible: $sum here, $again from $tmp/src with an empty cache" >&2
			exit 1
		fi
		echo "$sum  again from a copy in another directory, empty cache: reproducible"
		chmod -R u+w "$tmp"; rm -rf "$tmp"; trap - EXIT
	fi
done
printf '%s\n' "${sums[@]}" > "$DIST/SHA256SUMS"
