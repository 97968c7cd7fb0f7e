"""discounts and coupons: reseller discounts, coupons and their redemptions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'reseller_discounts',
        sa.Column('org_id', Id, nullable=False),
        sa.Column('product_id', sa.String(length=64), nullable=False),
        sa.Column('percent', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('percent > 0 AND percent <= 10000', name=op.f('ck_reseller_discounts_percent_in_range')),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'],
                                name=op.f('fk_reseller_discounts_org_id_organizations')),
        sa.PrimaryKeyConstraint('org_id', 'product_id', name=op.f('pk_reseller_discounts')),
    )
    op.create_table(
        'coupons',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('percent', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('product_ids', sa.String(length=1000), server_default='', nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('max_redemptions', sa.Integer(), nullable=True),
        sa.Column('redeemed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('(percent IS NULL) <> (amount IS NULL)', name=op.f('ck_coupons_percent_or_amount')),
        sa.CheckConstraint('max_redemptions IS NULL OR redeemed <= max_redemptions',
                           name=op.f('ck_coupons_redeemed_within_max')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
        sa.UniqueConstraint('code', name=op.f('uq_coupons_code')),
    )
    op.create_table(
        'coupon_redemptions',
        sa.Column('coupon_id', Id, nullable=False),
        sa.Column('org_id', Id, nullable=False),
        sa.Column('order_id', Id, nullable=False),
        sa.Column('redeemed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_redemptions_coupon_id_coupons')),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'],
                                name=op.f('fk_coupon_redemptions_org_id_organizations')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupon_redemptions_order_id_orders')),
        sa.PrimaryKeyConstraint('coupon_id', 'org_id', name=op.f('pk_coupon_redemptions')),
    )


def downgrade() -> None:
    op.drop_table('coupon_redemptions')
    op.drop_table('coupons')
    op.drop_table('reseller_discounts')
