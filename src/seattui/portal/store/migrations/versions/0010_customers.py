"""customers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

The organization's customers by email; licenses and subscriptions point at them. Every
email already on a license or subscription becomes a customer (lower-cased), linked.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _link_column(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with a reference in place; batch mode would rebuild the table
        # and its expression indexes.
        op.execute(f'ALTER TABLE {table} ADD COLUMN customer_id INTEGER '
                   f'CONSTRAINT fk_{table}_customer_id_customers REFERENCES customers (id)')
    else:
        op.add_column(table, sa.Column('customer_id', ID, nullable=True))
        op.create_foreign_key(f'fk_{table}_customer_id_customers', table, 'customers', ['customer_id'], ['id'])
    op.create_index(f'ix_{table}_org_id_customer_id', table, ['org_id', 'customer_id', 'id'], unique=False)


def upgrade() -> None:
    op.create_table(
        'customers',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('org_id', ID, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=200), server_default='', nullable=False),
        sa.Column('company', sa.String(length=200), server_default='', nullable=False),
        sa.Column('address', sa.String(length=500), server_default='', nullable=False),
        sa.Column('notes', sa.String(length=2000), server_default='', nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_customers_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
        sa.UniqueConstraint('org_id', 'email', name='uq_customers_org_id_email'),
    )
    for name, columns in (('id', ['org_id', 'id']), ('name', ['org_id', 'name', 'id']),
                          ('company', ['org_id', 'company', 'id']), ('email_id', ['org_id', 'email', 'id'])):
        op.create_index(f'ix_customers_org_id_{name}', 'customers', columns, unique=False)
    _link_column('licenses')
    _link_column('subscriptions')
    op.create_index('ix_order_lines_object_type_object_id', 'order_lines', ['object_type', 'object_id'], unique=False)
    for table in ('licenses', 'subscriptions'):
        op.execute(f"""
            INSERT INTO customers (org_id, email, name, company, address, notes, created_at, updated_at)
            SELECT org_id, lower(trim(customer_email)), '', '', '', '', min(created_at), min(created_at)
            FROM {table} AS held
            WHERE customer_email IS NOT NULL AND trim(customer_email) <> ''
              AND NOT EXISTS (SELECT 1 FROM customers AS known
                              WHERE known.org_id = held.org_id AND known.email = lower(trim(held.customer_email)))
            GROUP BY org_id, lower(trim(customer_email))
        """)
        op.execute(f"""
            UPDATE {table} SET customer_id = (
                SELECT customers.id FROM customers
                WHERE customers.org_id = {table}.org_id AND customers.email = lower(trim({table}.customer_email)))
            WHERE customer_email IS NOT NULL
        """)


def downgrade() -> None:
    op.drop_index('ix_order_lines_object_type_object_id', table_name='order_lines')
    for table in ('subscriptions', 'licenses'):
        op.drop_index(f'ix_{table}_org_id_customer_id', table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_customer_id_customers', type_='foreignkey')
            batch_op.drop_column('customer_id')
    op.drop_table('customers')
