# syntax=docker/dockerfile:1
# One image for the API, the worker and migrations; the command picks the role:
#   uvicorn api.main:app ... (default) | herald worker | herald migrate
# Built from requirements.lock (every package pinned, with hashes); development servers
# (devtools/, the dev extra) are not in it. Regenerate the lock after changing dependencies:
#   uv pip compile pyproject.toml --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
#     --generate-hashes --no-header -o requirements.lock
# (and requirements-build.lock, the build backend, from `setuptools>=68` the same way).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/herald
COPY requirements.lock requirements-build.lock /src/
RUN /opt/herald/bin/pip install --require-hashes --no-deps \
        -r /src/requirements.lock -r /src/requirements-build.lock
WORKDIR /src
COPY pyproject.toml worker.py bootstrap.py cli.py ./
COPY api ./api
COPY activities ./activities
COPY channels ./channels
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY observability ./observability
COPY services ./services
COPY temporal_clients ./temporal_clients
COPY workflows ./workflows
COPY web ./web
# Herald itself, built with the locked setuptools, its dependencies already there from the
# lock: nothing is resolved or downloaded unpinned.
RUN /opt/herald/bin/pip install --no-deps --no-build-isolation .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/herald/bin:$PATH
# A fixed non-root uid (the Helm chart's runAsUser); nothing in the image but /app/.data is
# writable by it, and Herald writes nothing to disk in production.
RUN groupadd --system --gid 10001 herald \
    && useradd --system --uid 10001 --gid herald --no-create-home --home-dir /nonexistent herald
COPY --from=build /opt/herald /opt/herald
WORKDIR /app
# The one writable path (a volume in docker-compose.yml), for the development SMS outbox.
RUN mkdir /app/.data && chown 10001:10001 /app/.data
USER 10001:10001
EXPOSE 8000
# No HEALTHCHECK: the worker and the migration job run this image too and serve no HTTP; the
# compose file and the Helm chart give each role its own check.
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
