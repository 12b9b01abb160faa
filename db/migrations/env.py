"""Alembic environment: migrations run on a synchronous psycopg connection."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

import db.booking_models
import db.broadcast_models
import db.channel_models
import db.daily_stats_models
import db.inbox_models
import db.integration_models
import db.operator_models
import db.policy_models
import db.suppression_models
import db.template_models
import db.tracking_models  # noqa: F401  (registers the delivery-tracking tables and index)
from db.models import Base
from db.session import to_async_url

url = context.config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
engine = create_engine(to_async_url(url), poolclass=pool.NullPool)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
