# The dashboard as deployed: gunicorn serving app.wsgi:server on the bundled data.
#   docker build -t profile-dashboard .
#   docker run --rm -p 8050:8050 profile-dashboard                      # http://localhost:8050
#   docker run --rm -p 8050:8050 -v /path/to/datasets:/data -e PROFILE_DATA=/data \
#              -e REDIS_URL=redis://redis:6379/0 -e URL_BASE_PATHNAME=/profile/ profile-dashboard
# Everything the pages need (Bootstrap CSS, plotly.js, the Dash renderer) is inside the image: no CDN.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROFILE_DATA=/app/data \
    CACHE_DIR=/tmp/profile-cache \
    WEB_CONCURRENCY=2

WORKDIR /app
# kaleido (PNG export from the CLI) needs a Chromium the slim image does not have; the dashboard
# draws and exports PNGs in the browser, so the image leaves it out to stay small.
COPY requirements.txt .
RUN grep -v '^kaleido' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY app ./app
COPY pages ./pages
COPY assets ./assets
COPY data ./data
COPY analyze.py gunicorn.conf.py ./

RUN useradd --system --uid 10001 --home-dir /app profile
USER profile

EXPOSE 8050
# /health answers 200 "ok", 200 "degraded" (serving without its cache, or with some datasets failing) or
# 503 "unavailable" (no dataset can be opened). urlopen raises on the 503 (and on no answer), so only that
# marks the container unhealthy; degraded stays in service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/health', timeout=4)"
# gunicorn.conf.py: WEB_CONCURRENCY gthread workers × PROFILE_THREADS threads, timeouts and request limits
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8050", "app.wsgi:server"]
