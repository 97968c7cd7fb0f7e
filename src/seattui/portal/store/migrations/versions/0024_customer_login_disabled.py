"""a customer's own login can be disabled

The organization disables a customer's login (`users.disabled_at`) and enables it again; a
disabled login neither logs in nor acts with any token it had. Removing a member
(`removed_at`) is another thing: for good, and for members only.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is added in place on SQLite too; batch mode would rebuild users, which
    # other tables refer to.
    op.add_column('users', sa.Column('disabled_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('disabled_at')
