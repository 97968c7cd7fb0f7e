"""employees and seat batches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seat_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('move_count', sa.Integer(), nullable=False),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('moves', sa.JSON(), nullable=False),
    sa.Column('undoes', sa.String(length=36), nullable=True),
    sa.Column('undone_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_seat_batches_actor_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_seat_batches_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_batches')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_seat_batches_batch_id'))
    )
    with op.batch_alter_table('seat_batches', schema=None) as batch_op:
        batch_op.create_index('ix_seat_batches_org_id_id', ['org_id', 'id'], unique=False)

    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.create_index('ix_employees_org_id_name', ['org_id', 'name', 'id', 'email', 'department', 'status'], unique=False)
        batch_op.create_index('ix_employees_org_id_status', ['org_id', 'status', 'id'], unique=False)

    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_batch', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_seats_org_id_last_batch', ['org_id', 'last_batch'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.drop_index('ix_seats_org_id_last_batch')
        batch_op.drop_column('last_batch')

    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_index('ix_employees_org_id_status')
        batch_op.drop_index('ix_employees_org_id_name')

    with op.batch_alter_table('seat_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_seat_batches_org_id_id')

    op.drop_table('seat_batches')
