# wlbtrack API image: `docker compose up` builds it (see docker-compose.yml and README "Operations").
# The first stage builds the wheel, which carries the Alembic scripts and the catalogue; the image installs
# only that wheel, as a user would, so it needs no source tree and no path variables.
FROM python:3.12-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
COPY seed/catalogue.yaml ./seed/catalogue.yaml
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WLBTRACK_HOST=0.0.0.0

COPY --from=build /dist /tmp/dist
RUN pip install /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --system --no-create-home --uid 10001 wlbtrack \
    && mkdir /var/lib/wlbtrack \
    && chown wlbtrack /var/lib/wlbtrack

# Any folder will do; this one is writable for an SQLite file when no WLBTRACK_DATABASE_URL is given.
WORKDIR /var/lib/wlbtrack
USER wlbtrack
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
CMD ["wlbtrack", "serve", "--host", "0.0.0.0", "--no-migrate"]
