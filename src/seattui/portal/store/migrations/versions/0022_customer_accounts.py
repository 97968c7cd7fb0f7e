"""customer accounts

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01

A customer's own login (role `customer`) points at its customer row, one login per
customer; the invitation that brings a customer in names the customer it is for.
"""

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _link_column(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with a reference in place; batch mode would rebuild the table,
        # which other tables refer to.
        op.execute(f'ALTER TABLE {table} ADD COLUMN customer_id INTEGER '
                   f'CONSTRAINT fk_{table}_customer_id_customers REFERENCES customers (id)')
    else:
        op.add_column(table, sa.Column('customer_id', ID, nullable=True))
        op.create_foreign_key(f'fk_{table}_customer_id_customers', table, 'customers', ['customer_id'], ['id'])


def upgrade() -> None:
    _link_column('users')
    op.create_index('uq_users_customer_id', 'users', ['customer_id'], unique=True)
    _link_column('invitations')
    op.create_index('ix_invitations_customer_id', 'invitations', ['customer_id'], unique=False)


def downgrade() -> None:
    for table, index in (('invitations', 'ix_invitations_customer_id'), ('users', 'uq_users_customer_id')):
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_customer_id_customers', type_='foreignkey')
            batch_op.drop_column('customer_id')
