"""operators: the dashboard's people, their sessions, invitations, password resets, login
attempts and the audit log

Revision ID: 0016_operators
Revises: 0015_inbox

- operators: one account per (tenant, email); role owner/editor/viewer; an argon2id hash.
- operator_sessions: server-side, so signing out everywhere (or a password reset) ends every
  one of an operator's sessions at once; the cookie holds a random token, signed, of which only
  a SHA-256 digest is stored here.
- operator_invitations, password_resets: emailed single-use links; only a digest of the token
  is stored; each expires.
- login_attempts: every sign-in attempt, read to limit failures per email and per client
  address in every API process alike.
- audit_log: who changed what in a tenant, in the same transaction as the change.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0016_operators"
down_revision = "0015_inbox"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)
_ROLE = "role IN ('owner', 'editor', 'viewer')"


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant_id",
        UUID(as_uuid=True),
        sa.ForeignKey("tenants.id", ondelete="CASCADE"),
        nullable=False,
    )


def _now(name: str) -> sa.Column:
    return sa.Column(name, _TZ, nullable=False, server_default=sa.text("now()"))


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        _tenant(),
        sa.Column("email", sa.String(320), nullable=False),  # lower-cased
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _now("created_at"),
        sa.UniqueConstraint("tenant_id", "email", name="uq_operators_tenant_email"),
        sa.CheckConstraint(_ROLE, name="ck_operators_role"),
    )
    op.create_index("ix_operators_email", "operators", ["email"])

    op.create_table(
        "operator_sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column(
            "operator_id",
            UUID(as_uuid=True),
            sa.ForeignKey("operators.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _now("created_at"),
        _now("last_seen_at"),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
    )
    op.create_index("ix_operator_sessions_operator", "operator_sessions", ["operator_id"])

    op.create_table(
        "operator_invitations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        _tenant(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column(
            "invited_by",
            UUID(as_uuid=True),
            sa.ForeignKey("operators.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _now("created_at"),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("accepted_at", _TZ, nullable=True),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.CheckConstraint(_ROLE, name="ck_operator_invitations_role"),
    )
    op.create_index("ix_operator_invitations_tenant", "operator_invitations", ["tenant_id"])

    op.create_table(
        "password_resets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "operator_id",
            UUID(as_uuid=True),
            sa.ForeignKey("operators.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_digest", sa.LargeBinary(32), nullable=False, unique=True),
        _now("created_at"),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
    )
    op.create_index("ix_password_resets_operator", "password_resets", ["operator_id"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("ip_address", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        _now("at"),
    )
    op.create_index("ix_login_attempts_email", "login_attempts", ["email", "at"])
    op.create_index("ix_login_attempts_ip", "login_attempts", ["ip_address", "at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _tenant(),
        # Kept when the operator is removed: the email says who it was.
        sa.Column(
            "operator_id",
            UUID(as_uuid=True),
            sa.ForeignKey("operators.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("operator_email", sa.String(320), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("details", JSONB(), nullable=False, server_default="{}"),
        _now("at"),
    )
    op.create_index(
        "ix_audit_log_tenant", "audit_log", ["tenant_id", sa.text("at DESC"), sa.text("id DESC")]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_login_attempts_ip", table_name="login_attempts")
    op.drop_index("ix_login_attempts_email", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_password_resets_operator", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_operator_invitations_tenant", table_name="operator_invitations")
    op.drop_table("operator_invitations")
    op.drop_index("ix_operator_sessions_operator", table_name="operator_sessions")
    op.drop_table("operator_sessions")
    op.drop_index("ix_operators_email", table_name="operators")
    op.drop_table("operators")
