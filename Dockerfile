# One image for the API, the worker and migrations; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml ./
COPY api ./api
COPY activities ./activities
COPY channels ./channels
COPY db ./db
COPY domain ./domain
COPY config ./config
COPY observability ./observability
COPY services ./services
COPY temporal_clients ./temporal_clients
COPY workflows ./workflows
COPY worker.py bootstrap.py cli.py alembic.ini ./
RUN pip install --no-cache-dir . && useradd --create-home herald
USER herald
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
