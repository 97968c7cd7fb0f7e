"""licenses at scale and device activation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Licenses get their key's text (filled from activation_keys) and an index for every filter
and sort of the license lists, license_search what their text filter scans; rate_counters holds the activation endpoints' limits.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# name -> the expression tables.py indexes; spelled as the queries spell it (see tables.py).
_EXPRESSION_INDEXES = {
    'ix_licenses_org_id_edition': "coalesce(edition_id, '')",
    'ix_licenses_org_id_customer': "coalesce(customer_email, '')",
    'ix_licenses_org_id_device': "coalesce(device_hostname, '')",
    'ix_licenses_org_id_support_end': "coalesce(support_ends_on, '9999-12-31')",
}


def upgrade() -> None:
    op.create_table('rate_counters',
    sa.Column('bucket', sa.String(length=200), nullable=False),
    sa.Column('window_start', UTCDateTime(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window_start', name=op.f('pk_rate_counters'))
    )
    with op.batch_alter_table('rate_counters', schema=None) as batch_op:
        batch_op.create_index('ix_rate_counters_window_start', ['window_start'], unique=False)

    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=19), nullable=True))
    op.execute(
        "UPDATE licenses SET key = (SELECT activation_keys.key FROM activation_keys "
        "WHERE activation_keys.id = licenses.key_id)"
    )
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=19), nullable=False)
        batch_op.create_index('ix_licenses_org_id_device_fingerprint', ['org_id', 'device_fingerprint'], unique=False)
        batch_op.create_index('ix_licenses_org_id_key', ['org_id', 'key', 'id'], unique=False)
        batch_op.create_index('ix_licenses_org_id_quantity', ['org_id', 'quantity', 'id'], unique=False)
        batch_op.create_index('ix_licenses_org_id_term', ['org_id', 'term', 'id'], unique=False)
    for name, expression in _EXPRESSION_INDEXES.items():
        op.create_index(name, 'licenses', ['org_id', sa.text(expression), 'id'], unique=False)

    op.create_table('license_search',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('license_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.String(length=1300), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_license_search_org_id_organizations')),
    sa.PrimaryKeyConstraint('org_id', 'license_id', name=op.f('pk_license_search')),
    sqlite_with_rowid=False
    )
    # The app lower-cases with Python; SQL's lower() agrees on the ASCII that keys and emails are.
    op.execute(
        "INSERT INTO license_search (org_id, license_id, text) SELECT org_id, id, "
        "lower(key || ' ' || coalesce(customer_email, '') || ' ' || comment) FROM licenses"
    )


def downgrade() -> None:
    op.drop_table('license_search')
    for name in _EXPRESSION_INDEXES:
        op.drop_index(name, table_name='licenses')
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_index('ix_licenses_org_id_term')
        batch_op.drop_index('ix_licenses_org_id_quantity')
        batch_op.drop_index('ix_licenses_org_id_key')
        batch_op.drop_index('ix_licenses_org_id_device_fingerprint')
        batch_op.drop_column('key')

    with op.batch_alter_table('rate_counters', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_counters_window_start')

    op.drop_table('rate_counters')
