"""child accounts: a reseller's own customer organizations, paid for by it

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01

`organizations.parent_id` exists since the foundation (a reseller's vendor); a child account
is an organization of kind `child` whose parent is a reseller. Orders a parent pays for a
child name the child (`orders.for_org_id`), which gives the child's spend.
"""

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_index('ix_organizations_parent_id_name', 'organizations', ['parent_id', 'name'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with a reference in place; batch mode would rebuild `orders`.
        op.execute('ALTER TABLE orders ADD COLUMN for_org_id INTEGER '
                   'CONSTRAINT fk_orders_for_org_id_organizations REFERENCES organizations (id)')
    else:
        op.add_column('orders', sa.Column('for_org_id', _Id, nullable=True))
        op.create_foreign_key('fk_orders_for_org_id_organizations', 'orders', 'organizations',
                              ['for_org_id'], ['id'])
    op.create_index('ix_orders_for_org_id_placed_at', 'orders', ['for_org_id', 'placed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_for_org_id_placed_at', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_orders_for_org_id_organizations', type_='foreignkey')
        batch_op.drop_column('for_org_id')
    op.drop_index('ix_organizations_parent_id_name', table_name='organizations')
