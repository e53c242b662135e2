# Production image: gunicorn behind a TLS-terminating proxy. For deployment only; the README's
# ./dev commands do the same steps (install, collectstatic, migrate, run) on a plain machine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=0

WORKDIR /app

# WeasyPrint (invoice and statement PDFs): Pango, HarfBuzz's subsetter and a font
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY config ./config
COPY apps ./apps
RUN pip install .

COPY . .
# static files are collected at build time and served by whitenoise
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --create-home --uid 10001 app \
    && mkdir -p /app/media \
    && chown -R app:app /app/media

USER app
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status != 200)"

# the metrics directory for gunicorn's workers only: migrate, the worker and beat (compose
# runs them from this image with their own commands) count nothing into it
CMD ["sh", "-c", "PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus exec gunicorn -c config/gunicorn.conf.py config.wsgi:application"]
