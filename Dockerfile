# syntax=docker/dockerfile:1
#
# matterbot's container image: the static binary on an empty base with CA
# certificates, run as an unprivileged user. docs/operations.md ("Docker")
# says how to run it; dockerfile_test.go checks this file against the code.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t matterbot .
#   docker run -d --name matterbot \
#     -v "$PWD/matterbot.toml:/etc/matterbot/matterbot.toml:ro" \
#     -v matterbot-data:/var/lib/matterbot \
#     -e MATTERBOT_MATTERMOST_TOKEN matterbot

# The builder runs on the build machine's platform and cross-compiles
# for each target platform: no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a change to the code reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version printed by `matterbot version` and the about plugin; the
# image has no .git to read it from.
ARG VERSION=
# Set by BuildKit for each platform of a multi-platform build
# (--platform linux/amd64,linux/arm64); empty means the builder's own.
ARG TARGETOS
ARG TARGETARCH
# Static (no cgo: no libc to load), with no file paths of this machine in
# it; the same flags as scripts/release.sh.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
	-ldflags "-s -w -buildid= -X github.com/matterbot/matterbot.version=$VERSION" \
	-o /out/root/usr/local/bin/matterbot ./cmd/matterbot
# The rest of the final image: the unprivileged user, the CA
# certificates, the configuration directory and an empty /tmp under
# /out/root (owned by root); the data directory under /out/data (owned
# by the user, by the COPY below).
RUN cd /out/root && mkdir -p etc/matterbot etc/ssl/certs tmp /out/data/matterbot \
	&& echo 'matterbot:x:10001:10001:matterbot:/var/lib/matterbot:/sbin/nologin' > etc/passwd \
	&& echo 'matterbot:x:10001:' > etc/group \
	&& cp /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/ \
	&& chmod 1777 tmp \
	&& chmod 0700 /out/data/matterbot

FROM scratch
COPY --from=build /out/root/ /
COPY --from=build --chown=10001:10001 /out/data/ /var/lib/
USER 10001:10001
# The configuration (matterbot.toml, mounted read-only) and the plugins'
# store (written by the bot: a named volume, or a directory owned by
# uid 10001).
VOLUME ["/etc/matterbot", "/var/lib/matterbot"]
WORKDIR /var/lib/matterbot
# The store lives in the data volume, not beside the configuration file
# (the default); -e MATTERBOT_STORAGE_PATH=... moves it.
ENV MATTERBOT_STORAGE_PATH=/var/lib/matterbot/matterbot.db
# The HTTP listener (webhooks, /healthz, /readyz, /metrics). By default
# it listens on 127.0.0.1:8066 inside the container, which the health
# check below reaches but nothing outside does. To publish it
# (-p 8066:8066), listen on all interfaces, which the bot allows only
# with a webhook secret: -e MATTERBOT_HTTP_LISTEN=:8066
# -e MATTERBOT_HTTP_SECRET=...; the health check follows the variable.
EXPOSE 8066
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
	CMD ["/usr/local/bin/matterbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/matterbot"]
CMD ["run", "-c", "/etc/matterbot/matterbot.toml"]
