"""members, invitations and API tokens

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Users get their last login and a removal time; invitations hold single-use tokens (hashed)
that create a member; automation_tokens are named API tokens apart from password sessions;
an audit entry names the API token it was made with.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_name', sa.String(length=64), nullable=True))
    op.create_table(
        'invitations',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('org_id', _ID, nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by', _ID, nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('accepted_at', UTCDateTime(), nullable=True),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_invitations_org_id_organizations')),
        sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_invitations_invited_by_users')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    )
    op.create_index('ix_invitations_org_id_id', 'invitations', ['org_id', 'id'], unique=False)
    op.create_table(
        'automation_tokens',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('org_id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=True),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_automation_tokens_org_id_organizations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_automation_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_automation_tokens_token_hash')),
    )
    op.create_index('ix_automation_tokens_user_id', 'automation_tokens', ['user_id'], unique=False)
    op.create_index('uq_automation_tokens_live_name', 'automation_tokens', ['org_id', 'name'], unique=True,
                    sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_automation_tokens_live_name', table_name='automation_tokens')
    op.drop_index('ix_automation_tokens_user_id', table_name='automation_tokens')
    op.drop_table('automation_tokens')
    op.drop_index('ix_invitations_org_id_id', table_name='invitations')
    op.drop_table('invitations')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('token_name')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('last_login_at')
