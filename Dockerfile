# humortune serve as a container: the JSON API for apps that are not Python (see docs/deploying.md).
# Configuration comes only from the environment (HUMORTUNE_*, PORT); nothing is baked into the image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir '.[ui]' \
    && groupadd --system --gid 10001 humortune \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/humortune humortune

USER 10001:10001
# The local workspace (SQLite corpus, caches) lives in the container and is lost with it: on Cloud Run keep
# videos in GCS (HUMORTUNE_STORAGE=gs://…); see docs/deploying.md for what state lives where.
ENV HUMORTUNE_WORKSPACE=/home/humortune/workspace \
    HUMORTUNE_HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/healthz', timeout=4)"]

ENTRYPOINT ["humortune", "serve"]
