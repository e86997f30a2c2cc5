# wlbtrack API image: `docker compose up` builds it (see docker-compose.yml and README "Operations").
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WLBTRACK_HOST=0.0.0.0 \
    WLBTRACK_SEED_PATH=/app/seed/catalogue.yaml \
    WLBTRACK_MIGRATIONS_PATH=/app/migrations

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY seed ./seed
RUN pip install . \
    && useradd --system --no-create-home --uid 10001 wlbtrack

USER wlbtrack
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
CMD ["wlbtrack", "serve", "--host", "0.0.0.0", "--no-migrate"]
