"""ledger entries numbered per organization

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Each organization's ledger entries get a running number, unique per organization. Two
transactions that both read the same last entry (a debit that forgot to lock the balance)
now collide on the number instead of both spending the same credits.
"""

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE ledger_entries SET sequence = (SELECT count(*) FROM ledger_entries AS earlier "
        "WHERE earlier.org_id = ledger_entries.org_id AND earlier.id <= ledger_entries.id)"
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.alter_column('sequence', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_ledger_entries_org_id'), ['org_id', 'sequence'])


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_ledger_entries_org_id'), type_='unique')
        batch_op.drop_column('sequence')
