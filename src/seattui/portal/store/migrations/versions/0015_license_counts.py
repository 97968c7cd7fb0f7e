"""each organization's count of licenses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

license_counts holds how many licenses each organization has, kept up to date in the
transactions that create and delete them, so the unfiltered list's total is one row's read.
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'license_counts',
        sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('licenses', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_license_counts_org_id_organizations')),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_license_counts')),
    )
    op.execute("INSERT INTO license_counts (org_id, licenses) SELECT org_id, count(*) FROM licenses GROUP BY org_id")


def downgrade() -> None:
    op.drop_table('license_counts')
