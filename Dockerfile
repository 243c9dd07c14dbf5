# forecastd on the official Deno image (Debian; linux/amd64 and linux/arm64,
# so it also builds on a Raspberry Pi 4/5 with a 64-bit OS).
#
# The API listens on every interface of the container, so it needs an API token: without
# one forecastd refuses to start and says so. Make one (the token goes to your clients, its
# ROLE:HASH line to forecastd; docs/security.md):
#
#   docker build -t forecastd .
#   docker run --rm forecastd run --allow-env main.ts token          # token: fcd_...  api-token: write:sha256:...
#   docker run -d --name forecastd -p 8080:8080 -p 1883:1883 -v forecastd-data:/data \
#     -e FORECASTD_API_TOKENS=write:sha256:... forecastd
#
# HTTPS: mount the certificate and key under /run/secrets and add
#   -e FORECASTD_TLS_CERT=/run/secrets/cert.pem -e FORECASTD_TLS_KEY=/run/secrets/key.pem
FROM denoland/deno:2.9.6

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /app /data

# run as the image's unprivileged user; its DENO_DIR (/deno-dir) is writable by it
USER deno

# dependencies first (exactly as locked), so a code change does not fetch them again
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen
COPY --chown=deno:deno . .
RUN deno cache --frozen main.ts

# the models, optimiser state, windows and alert history live in Deno KV under /data
VOLUME /data
ENV FORECASTD_HOST=0.0.0.0 \
    FORECASTD_DATA_DIR=/data \
    FORECASTD_PORT=8080 \
    FORECASTD_MQTT_PORT=1883
EXPOSE 8080 1883

# /healthz needs no token; over HTTPS the probe does not check the certificate of 127.0.0.1
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "--unsafely-ignore-certificate-errors=127.0.0.1", "const s = Deno.env.get('FORECASTD_TLS_CERT') ? 'https' : 'http'; const r = await fetch(`${s}://127.0.0.1:${Deno.env.get('FORECASTD_PORT')}/healthz`); Deno.exit(r.ok ? 0 : 1)"]

# --allow-sys=getPriority,setPriority: each shard worker runs its own thread --worker-nice (10)
# levels below the main thread (docs/scaling.md, "Who gets a core"); it needs no capability
CMD ["run", "--v8-flags=--optimize-for-size", "--allow-net", "--allow-env", "--allow-read=/app,/data,/run/secrets", "--allow-write=/data", "--allow-sys=getPriority,setPriority", "main.ts", "serve"]
