# DeepSeek Studio — production image: uvicorn (ASGI), non-root, static files collected.
# Several workers need REDIS_URL (streams and Stop are relayed between workers through Redis);
# without Redis keep WEB_CONCURRENCY=1.
# Background work runs in the same image with another command: `python manage.py db_worker`
# (the `worker` service in docker-compose.yml).

# --- build: wheels for the project and its pinned dependencies ----------------------------
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY studio ./studio
COPY drafts ./drafts
COPY prompts ./prompts
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- run --------------------------------------------------------------------------------
FROM python:3.12-slim AS app
# PROMETHEUS_MULTIPROC_DIR: each worker writes its metrics there and /metrics sums them all
# (emptied by the entry command before the workers start; docker-compose.yml mounts a tmpfs).
# SHUTDOWN_TIMEOUT: seconds a worker takes at most to stop on SIGTERM (new requests get 503 with
# Retry-After meanwhile, running generations end as interrupted with their text kept); keep it
# under the stop timeout (`docker stop -t`, compose's stop_grace_period: 10 s by default).
# uvicorn's --timeout-graceful-shutdown only cuts off what the studio's own drain left.
# --loop: uvloop, taking every waiting connection at each turn of a busy worker
# (studio/event_loop.py).
# FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For/-Proto uvicorn believes (addresses or
# networks, comma-separated). Empty: none, so a client cannot pick the address that rate limits
# and the audit log see; set it to your TLS proxy's address (docs/operations.md).
# OPENBLAS_NUM_THREADS: one BLAS thread per worker; the experiment statistics (NumPy/SciPy) fit
# tiny matrices, and BLAS's default of a thread per core made each fit ~6× slower on 2 cores.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATIC_MANIFEST=true \
    WEB_CONCURRENCY=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    SHUTDOWN_TIMEOUT=8 \
    OPENBLAS_NUM_THREADS=1 \
    FORWARDED_ALLOW_IPS=""
WORKDIR /app
RUN useradd --create-home --uid 1000 studio
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/deepseek_studio-*.whl \
    && rm -rf /wheels
COPY manage.py ./
COPY studio ./studio
COPY drafts ./drafts
COPY prompts ./prompts
COPY theme/__init__.py theme/apps.py ./theme/
COPY theme/static ./theme/static
COPY templates ./templates
COPY locale ./locale
RUN mkdir -p "$PROMETHEUS_MULTIPROC_DIR" \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && chown -R studio /app "$PROMETHEUS_MULTIPROC_DIR"
# By uid, so that a host (or Kubernetes runAsNonRoot) can tell it is not root.
USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_demo_templates && python -m studio.audit.multiproc && exec uvicorn studio.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --loop studio.event_loop:new_event_loop --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS}\" --lifespan on --timeout-graceful-shutdown 2"]
