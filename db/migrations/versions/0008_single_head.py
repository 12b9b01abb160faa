"""single head: merge the branches that 0002 to 0007 started from 0001 into one linear chain

Revision ID: 0008_single_head
Revises: 0003_bookings, 0005_tracking, 0006_failover, 0007_fallbacks

0002 to 0007 were each written against 0001, so Alembic saw six heads: `alembic upgrade
head` failed and Herald upgraded to "heads". 0005 and 0007 needed 0002 and 0004 (an index
on a 0002 column; a column on a 0004 table) and now revise them, so four branches remain,
and this revision joins them. It changes no schema. A database at today's schema (all six
applied; "heads" left the rows 0003, 0005, 0006 and 0007 in alembic_version, 0002 and 0004
being implied by their dependants) upgrades to it cleanly and keeps one row, this one; an
empty database reaches it through 0001 to 0007.

From now on the chain is linear: every new migration revises the single current head
(`alembic revision -m "..."` picks it), and tests/e2e/test_migrations.py fails when a
second head appears.
"""

revision = "0008_single_head"
down_revision = ("0003_bookings", "0005_tracking", "0006_failover", "0007_fallbacks")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
