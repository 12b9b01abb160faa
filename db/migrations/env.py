"""Alembic environment: migrations run on a synchronous psycopg connection."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

from db.models import Base
import db.template_models  # noqa: F401  (registers the template tables on Base.metadata)
import db.booking_models  # noqa: F401  (registers the booking tables on Base.metadata)
import db.policy_models  # noqa: F401  (registers the delivery-policy tables)
import db.tracking_models  # noqa: F401  (registers the delivery-tracking tables and index)
from db.session import to_async_url

url = context.config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
engine = create_engine(to_async_url(url), poolclass=pool.NullPool)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
