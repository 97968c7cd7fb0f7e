"""seat plans: seat intervals for seat-days, billing claims, annual renewal settings,
channel subscriptions' status, grace days

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

A flexible plan's cap becomes the seats it bought (its quantity) and it loses its 30-day term;
seats held now start their interval on the day they were assigned; annual contracts renew
with the same seats.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'seat_intervals',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('org_id', Id, nullable=False),
        sa.Column('license_id', Id, nullable=False),
        sa.Column('seat_id', Id, nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_seat_intervals_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_intervals')),
    )
    op.create_index('ix_seat_intervals_license_id_ended_on', 'seat_intervals', ['license_id', 'ended_on'])
    op.create_index('ix_seat_intervals_seat_id', 'seat_intervals', ['seat_id'])
    op.create_table(
        'billing_claims',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('object_id', Id, nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('org_id', Id, nullable=False),
        sa.Column('order_id', Id, nullable=True),
        sa.Column('done_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_billing_claims_org_id_organizations')),
        sa.PrimaryKeyConstraint('kind', 'object_id', 'period', name=op.f('pk_billing_claims')),
    )
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal', sa.String(length=16), nullable=True))
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('unpaid_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
    with op.batch_alter_table('billing_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grace_days', sa.Integer(), server_default='7', nullable=False))
    op.execute("UPDATE licenses SET seat_cap = quantity, term_ends_on = NULL WHERE term = 'flexible'")
    op.execute("UPDATE licenses SET renewal = 'same' WHERE term = 'annual'")
    # The UTC day of assigned_at (SQLite keeps it as ISO text).
    day = "substr(assigned_at, 1, 10)" if op.get_bind().dialect.name == "sqlite" else "CAST(assigned_at AS DATE)"
    op.execute("INSERT INTO seat_intervals (org_id, license_id, seat_id, started_on) "
               f"SELECT org_id, license_id, id, {day} FROM seats")


def downgrade() -> None:
    with op.batch_alter_table('billing_terms', schema=None) as batch_op:
        batch_op.drop_column('grace_days')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('ended_on')
        batch_op.drop_column('unpaid_since')
        batch_op.drop_column('status')
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_column('renewal')
    op.drop_table('billing_claims')
    op.drop_index('ix_seat_intervals_seat_id', table_name='seat_intervals')
    op.drop_index('ix_seat_intervals_license_id_ended_on', table_name='seat_intervals')
    op.drop_table('seat_intervals')
