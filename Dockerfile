# kiss-esuite-adapter container image (docs/deployment.md).
#
#   docker build -t kiss-esuite-adapter:0.1.0 .
#   docker run --rm --read-only -p 8080:8080 --env-file adapter.env kiss-esuite-adapter:0.1.0
#
# Every runtime dependency is pinned in constraints.txt, generated from the tested environment
# (`.venv/bin/python -m tests.deploy.lock --write`). Its "# python:" line and the Python minor
# version of PYTHON_IMAGE must agree; tests/deploy checks that, and lints this file (hadolint).
ARG PYTHON_IMAGE=python:3.11-slim-trixie

# ---- build: a virtual environment holding the pinned dependencies and the adapter -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# No pip or setuptools inside the venv: the base image's pip installs into it from outside.
RUN python -m venv --without-pip /opt/venv
COPY constraints.txt ./
# Exactly the pinned set, wheels only: nothing is compiled, no build tools are needed.
RUN pip --python /opt/venv/bin/python install --no-deps --only-binary=:all: --requirement constraints.txt
COPY pyproject.toml README.md ./
COPY adapter ./adapter
# The adapter itself, without letting pip add or change a dependency; then check the set.
RUN pip --python /opt/venv/bin/python install --no-deps . \
    && pip --python /opt/venv/bin/python check

# ---- runtime: the base image, the venv, a non-root user; nothing is written at run time --------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="kiss-esuite-adapter" \
      org.opencontainers.image.description="Adapter between KISS (Open Klant 1 / Objects API) and the Dimpact e-Suite" \
      org.opencontainers.image.licenses="EUPL-1.2"
# Nothing is installed at run time, so pip, setuptools and wheel go; a fixed numeric user lets
# Kubernetes check runAsNonRoot.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 adapter \
    && useradd --system --no-log-init --uid 10001 --gid adapter \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin adapter
COPY --from=build /opt/venv /opt/venv
# The venv's .pyc files were compiled at build time; PYTHONDONTWRITEBYTECODE keeps Python from
# ever trying to write more, so the root filesystem can be mounted read-only.
ENV PATH="/opt/venv/bin:${PATH}" \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["/opt/venv/bin/kiss-esuite-adapter"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
