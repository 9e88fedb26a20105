# newsbot in a container: the Discord bot by default, any other command as arguments
# (`docker run … newsbot-image ask "Wo soll der Gipfel stattfinden?"`). The install steps are the
# Makefile's (`make setup`): CPU-only torch pinned first, then the package.
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY bot bot
COPY index index
COPY prompts prompts
RUN python -m pip install --quiet --upgrade pip \
    && python -m pip install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && python -m pip install --quiet .

FROM python:3.12-slim
RUN useradd --create-home --uid 1000 newsbot && mkdir /data && chown newsbot /data
COPY --from=build /app/.venv /app/.venv
# The index (catalog, and the vectors unless NEWSBOT_CHROMA_URL names a server) lives in /data: mount a volume.
# compound-split's n-gram tables are copied once into /data/cache (NEWSBOT_CACHE_DIR), kept with the volume.
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False NEWSBOT_DATA_DIR=/data NEWSBOT_CACHE_DIR=/data/cache
USER newsbot
WORKDIR /data
VOLUME /data
# Healthy while the bot process runs (it writes /data/bot-PID.json); reads SQLite only, loads no model.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s CMD ["newsbot", "status", "--bot-running"]
ENTRYPOINT ["newsbot"]
CMD ["discord"]
