# syntax=docker/dockerfile:1
# keyrelay's container image: the static binary, CA certificates and an
# empty /data for state, on nothing (FROM scratch: no shell, no libc).
#
# The binary comes from scripts/package, which leaves it at
# dist/image/linux-ARCH/keyrelay (amd64 and arm64), so after it:
#   docker build -t keyrelay .
#   docker run -p 8080:8080 -v keyrelay-data:/data \
#     -e KEYRELAY_ACCESS_TOKENS=team-token -e GEMINI_API_KEYS=key-one,key-two keyrelay
#
# keyrelay listens on 0.0.0.0 here, which it refuses to do without an access
# token: set KEYRELAY_ACCESS_TOKENS (or server.access_tokens in a config file).

FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS files
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && mkdir -p /out/data

FROM scratch
ARG TARGETARCH
# keyrelay trusts the Mozilla roots compiled into it (webpki-roots) and
# reads no CA file; the bundle is for images built on this one.
COPY --from=files /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=files --chown=65532:65532 /out/data /data
COPY --chmod=0755 dist/image/linux-${TARGETARCH}/keyrelay /keyrelay
USER 65532:65532
ENV KEYRELAY_LISTEN=0.0.0.0:8080 \
    KEYRELAY_STATE=sqlite:/data/state.db \
    KEYRELAY_KEYS_FILE=/data/keys.toml
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/keyrelay", "health"]
ENTRYPOINT ["/keyrelay"]
CMD ["serve"]
