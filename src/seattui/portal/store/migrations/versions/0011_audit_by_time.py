"""the audit trail by time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

`GET /api/v1/audit?since=DATE` (and `seattui audit --since`) reads the entries of a recent
stretch through an index on (org_id, at, id).
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_org_id_at', 'audit_entries', ['org_id', 'at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_entries_org_id_at', table_name='audit_entries')
