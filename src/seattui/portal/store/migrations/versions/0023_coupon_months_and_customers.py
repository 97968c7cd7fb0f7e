"""coupons for the first M months of a subscription, and once per customer

A coupon may come off a subscription's renewals for M months from its redemption
(`coupons.months`; NULL: once), and may be used once per customer of the order rather than once
per organization (`coupons.once_per`). A redemption remembers the object it came off (the
renewals find it there) and the customer it counted for (0: the organization as a whole), which
joins its primary key.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('once_per', sa.String(length=16), server_default='organization',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_coupons_months_in_range'), 'months IS NULL OR months BETWEEN 1 AND 36')
    with op.batch_alter_table('coupon_redemptions', schema=None, recreate='always') as batch_op:
        batch_op.add_column(sa.Column('customer_id', Id, server_default='0', nullable=False))
        batch_op.add_column(sa.Column('object_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('object_id', Id, nullable=True))
        batch_op.drop_constraint('pk_coupon_redemptions', type_='primary')
        batch_op.create_primary_key('pk_coupon_redemptions', ['coupon_id', 'org_id', 'customer_id'])
        batch_op.create_index(op.f('ix_coupon_redemptions_object_type_object_id'), ['object_type', 'object_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coupon_redemptions', schema=None, recreate='always') as batch_op:
        batch_op.drop_index(op.f('ix_coupon_redemptions_object_type_object_id'))
        batch_op.drop_constraint('pk_coupon_redemptions', type_='primary')
        batch_op.create_primary_key('pk_coupon_redemptions', ['coupon_id', 'org_id'])
        batch_op.drop_column('object_id')
        batch_op.drop_column('object_type')
        batch_op.drop_column('customer_id')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_coupons_months_in_range'), type_='check')
        batch_op.drop_column('once_per')
        batch_op.drop_column('months')
