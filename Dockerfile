# Frontline: one replica of the bot. See docs/DEPLOY.md (compose file: deploy/compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

# Dependencies first (a layer that changes only with pyproject.toml), then the code.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cases ./cases
COPY geo ./geo
COPY handlers ./handlers
COPY storage ./storage
COPY emulator ./emulator
COPY scheduler.py ./
COPY data ./data
RUN pip install --no-cache-dir . && useradd --system --uid 10001 frontline \
    && mkdir -p /var/lib/frontline/media && chown -R frontline /var/lib/frontline

USER frontline
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=8).status != 200)"]
CMD ["python", "-m", "bot", "--config", "/etc/frontline/config.yaml", "--log-format", "json"]
