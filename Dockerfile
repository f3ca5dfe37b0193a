# syntax=docker/dockerfile:1
# Multi-stage: wheels are built with the compilers, the runtime image only has what runs.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY robian_media robian_media
COPY packager packager
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 --home-dir /home/robian robian
COPY --from=build /wheels /wheels
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# the application tree (migrations, ladder presets, static page) is read from /app
WORKDIR /app
COPY --chown=robian:robian . /app
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps -e /app
ENV PATH=/opt/venv/bin:$PATH \
    ROBIAN_DATA_DIR=/var/lib/robian \
    ROBIAN_MEDIA_ROOT=/var/lib/robian/media \
    ROBIAN_FFMPEG=/usr/bin/ffmpeg \
    ROBIAN_HOST=0.0.0.0 \
    ROBIAN_PORT=8080
RUN mkdir -p /var/lib/robian/media && chown -R robian:robian /var/lib/robian
USER robian
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health || exit 1
CMD ["robian-media", "serve"]
