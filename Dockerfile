# PrepSkul Sessions: one image for `serve`, `worker` and `migrate`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PREPSKUL_ENV=production

WORKDIR /app
# Dependencies from the lock file (exact versions, hashes checked), then our package alone.
COPY requirements.lock pyproject.toml README.md ./
COPY prepskul ./prepskul
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 prepskul

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["prepskul", "serve", "--host", "0.0.0.0", "--port", "8000"]
