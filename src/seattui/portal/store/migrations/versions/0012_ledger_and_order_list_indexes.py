"""ledger and order list indexes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The ledger and orders lists page newest first by (time, id), within days, of one kind or all.
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_org_id_at', ['org_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_org_id_reason_at', ['org_id', 'reason', 'at', 'id'], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_org_id_placed_at', ['org_id', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_org_id_kind_placed_at', ['org_id', 'kind', 'placed_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_org_id_kind_placed_at')
        batch_op.drop_index('ix_orders_org_id_placed_at')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_org_id_reason_at')
        batch_op.drop_index('ix_ledger_entries_org_id_at')
