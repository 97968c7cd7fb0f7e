"""the mail outbox

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01

Mail is written to outbox_mails (and its attachments to outbox_attachments) in the
transaction of what causes it; the portal's delivery task sends it over SMTP.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.tables import UTCDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox_mails',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('cause', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_outbox_mails_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mails')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbox_mails_message_id')),
    )
    op.create_index('ix_outbox_mails_status_next_attempt_at', 'outbox_mails', ['status', 'next_attempt_at'], unique=False)
    op.create_table(
        'outbox_attachments',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('mail_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=127), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['mail_id'], ['outbox_mails.id'], name=op.f('fk_outbox_attachments_mail_id_outbox_mails'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attachments')),
    )
    op.create_index(op.f('ix_outbox_attachments_mail_id'), 'outbox_attachments', ['mail_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbox_attachments_mail_id'), table_name='outbox_attachments')
    op.drop_table('outbox_attachments')
    op.drop_index('ix_outbox_mails_status_next_attempt_at', table_name='outbox_mails')
    op.drop_table('outbox_mails')
