"""billing: payment terms, orders, invoices and their number series, billing periods;
the first activation of a license (for refund policies)

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_activated_at', UTCDateTime(), nullable=True))
    # A license activated now was activated at least since then.
    op.execute("UPDATE licenses SET first_activated_at = activated_at WHERE activated_at IS NOT NULL")
    op.create_table('billing_periods',
    sa.Column('period_key', sa.String(length=7), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=False),
    sa.Column('finalized', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('period_key', name=op.f('pk_billing_periods'))
    )
    op.create_table('invoice_series',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('last_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_invoice_series'))
    )
    op.create_table('billing_terms',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('terms', sa.String(length=16), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('due_days', sa.Integer(), server_default='30', nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('credit_limit >= 0', name=op.f('ck_billing_terms_credit_limit_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_billing_terms_org_id_organizations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_billing_terms'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('period_key', sa.String(length=7), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('total', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_invoices_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number')),
    sa.UniqueConstraint('org_id', 'period_key', name='uq_invoices_org_id_period_key')
    )
    op.create_index('ix_invoices_org_id_id', 'invoices', ['org_id', 'id'], unique=False)
    op.create_index('ix_invoices_status_period_start', 'invoices', ['status', 'period_start'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('placed_at', UTCDateTime(), nullable=False),
    sa.Column('placed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('reference_name', sa.String(length=120), nullable=True),
    sa.Column('po_number', sa.String(length=80), nullable=True),
    sa.Column('paid_with', sa.String(length=16), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_orders_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_orders_org_id_organizations')),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_orders_placed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    op.create_index(op.f('ix_orders_invoice_id'), 'orders', ['invoice_id'], unique=False)
    op.create_index('ix_orders_org_id_id', 'orders', ['org_id', 'id'], unique=False)
    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('service_start', sa.Date(), nullable=True),
    sa.Column('service_end', sa.Date(), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines'))
    )
    op.create_index(op.f('ix_order_lines_order_id'), 'order_lines', ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_column('first_activated_at')
    op.drop_index(op.f('ix_order_lines_order_id'), table_name='order_lines')
    op.drop_table('order_lines')
    op.drop_index('ix_orders_org_id_id', table_name='orders')
    op.drop_index(op.f('ix_orders_invoice_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_index('ix_invoices_status_period_start', table_name='invoices')
    op.drop_index('ix_invoices_org_id_id', table_name='invoices')
    op.drop_table('invoices')
    op.drop_table('billing_terms')
    op.drop_table('invoice_series')
    op.drop_table('billing_periods')
