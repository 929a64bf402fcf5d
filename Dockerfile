# The Updraft operator and API image: `updraft operator run` / `updraft api serve`.
#   docker build -t updraft/operator:0.1.0 .
# BASE_IMAGE lets the local cluster harness build the same file on a local base (no registry).
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# Optional: a CA bundle for pip behind a TLS-intercepting proxy (mount it with the build).
ARG PIP_CERT
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN python -m venv /opt/updraft && /opt/updraft/bin/pip install --no-compile -c operator/constraints.txt . \
 && find /opt/updraft -name '__pycache__' -prune -exec rm -rf {} + \
 && rm -rf /opt/updraft/lib/python3*/site-packages/pip /opt/updraft/lib/python3*/site-packages/setuptools

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="updraft" \
      org.opencontainers.image.description="Serverless Apache Airflow on your own Kubernetes: operator and MWAA Serverless-compatible API" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/updraft /opt/updraft
ENV PATH=/opt/updraft/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
ENTRYPOINT ["updraft"]
CMD ["operator", "run"]
