# DeepSeek Studio: one uvicorn worker per container (generations run in-process; scale out
# with more containers behind a load balancer that keeps a draft's requests on one container).
FROM python:3.12-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STATIC_MANIFEST=true

WORKDIR /app
RUN useradd --create-home --uid 1000 studio

COPY pyproject.toml README.md ./
COPY studio ./studio
COPY drafts ./drafts
COPY prompts ./prompts
COPY theme/__init__.py theme/apps.py ./theme/
COPY theme/static ./theme/static
COPY templates ./templates
COPY locale ./locale
COPY manage.py ./
RUN pip install . && \
    SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput && \
    chown -R studio /app

USER studio
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_demo_templates && exec uvicorn studio.asgi:application --host 0.0.0.0 --port 8000 --proxy-headers --forwarded-allow-ips='*' --lifespan on"]
