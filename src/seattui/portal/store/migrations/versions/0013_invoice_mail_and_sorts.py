"""invoices by mail and sorted

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

An organization's billing address (where its invoices are emailed), and the indexes the
invoices list sorts on (by number, by total).
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_email', sa.String(length=320), nullable=True))
    op.create_index('ix_invoices_org_id_number_id', 'invoices', ['org_id', 'number', 'id'], unique=False)
    op.create_index('ix_invoices_org_id_total_id', 'invoices', ['org_id', 'total', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_invoices_org_id_total_id', table_name='invoices')
    op.drop_index('ix_invoices_org_id_number_id', table_name='invoices')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('billing_email')
