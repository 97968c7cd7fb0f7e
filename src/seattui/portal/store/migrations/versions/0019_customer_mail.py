"""mail to customers when a key is assigned to them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

The organization's choice to mail customers their keys (on by default) and to attach the
signed license file (off by default), and the record of who was mailed which key, so nobody
is mailed the same key twice.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes one with a constant default): batch mode would copy
    # `organizations`, which every table refers to.
    op.add_column('organizations', sa.Column('customer_mail', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('organizations', sa.Column('customer_mail_attach_file', sa.Boolean(), server_default=sa.false(),
                                             nullable=False))
    op.create_table(
        'customer_mailings',
        sa.Column('id', _Id, autoincrement=True, nullable=False),
        sa.Column('org_id', _Id, nullable=False),
        sa.Column('object_type', sa.String(length=16), nullable=False),
        sa.Column('object_id', _Id, nullable=False),
        sa.Column('customer_id', _Id, nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('mailed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'object_type', 'object_id', 'customer_id',
                            name='uq_customer_mailings_object_customer'),
    )


def downgrade() -> None:
    op.drop_table('customer_mailings')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('customer_mail_attach_file')
        batch_op.drop_column('customer_mail')
