"""activation key list indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The keys list pages by (name, id) or (created_at, id) within an organization.
    with op.batch_alter_table('activation_keys', schema=None) as batch_op:
        batch_op.create_index('ix_activation_keys_org_id_created_at', ['org_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_activation_keys_org_id_name', ['org_id', 'name', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activation_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_activation_keys_org_id_name')
        batch_op.drop_index('ix_activation_keys_org_id_created_at')
