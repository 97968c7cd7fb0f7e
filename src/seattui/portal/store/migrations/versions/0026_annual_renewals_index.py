"""annual licenses by the day their term ends

The billing run asks at every start of the portal, then hourly, which annual licenses are due
for renewal, across every organization. Without an index that read every license (0.1 s at
100,000, a second at 1,000,000); (term, term_ends_on) names the annual ones due at once.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02
"""

from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_licenses_term_term_ends_on', 'licenses', ['term', 'term_ends_on'])


def downgrade() -> None:
    op.drop_index('ix_licenses_term_term_ends_on', table_name='licenses')
