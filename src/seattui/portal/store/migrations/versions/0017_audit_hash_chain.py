"""the audit log's hash chain, and indexes for the audit screen's filters

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Each audit entry gets its place in its organization's chain, the hash of the entry before
it and its own hash (store/audit_chain.py); the entries already written are chained here, in
the order they were written. audit_chains holds the end of each organization's chain.
"""

import sqlalchemy as sa
from alembic import op

from seattui.portal.store.audit_chain import GENESIS, entry_hash
from seattui.portal.store.tables import UTCDateTime


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'audit_chains',
        sa.Column('org_id', _Id, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_audit_chains_org_id_organizations')),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_audit_chains')),
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
    _chain_existing_entries(op.get_bind())
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('uq_audit_entries_org_id_chain_seq', ['org_id', 'chain_seq'], unique=True)
        batch_op.create_index('ix_audit_entries_org_id_actor_at_id', ['org_id', 'actor', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_org_id_action_at_id', ['org_id', 'action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_org_id_object_at_id',
                              ['org_id', 'object_type', 'object_id', 'at', 'id'], unique=False)


def _chain_existing_entries(bind: sa.engine.Connection) -> None:
    # The table as it is now (every column it has), read with the portal's own types, so the
    # hashes are those the portal recomputes from the rows later.
    entries = sa.Table('audit_entries', sa.MetaData(), sa.Column('at', UTCDateTime()),
                       sa.Column('details', sa.JSON()), autoload_with=bind)
    chains = sa.table('audit_chains', sa.column('org_id'), sa.column('seq'), sa.column('hash'))
    org_ids = bind.execute(sa.select(entries.c.org_id).distinct().order_by(entries.c.org_id)).scalars().all()
    for org_id in org_ids:
        place, previous, last_id = 0, GENESIS, 0
        while True:
            rows = bind.execute(sa.select(entries).where(entries.c.org_id == org_id, entries.c.id > last_id)
                                .order_by(entries.c.id).limit(2000)).mappings().all()
            updates = []
            for row in rows:
                place += 1
                facts = dict(row) | {'chain_seq': place, 'prev_hash': previous}
                previous = entry_hash(facts)
                updates.append({'entry_id': row['id'], 'seq': place, 'prev': facts['prev_hash'], 'hash': previous})
                last_id = row['id']
            if updates:
                bind.execute(sa.update(entries).where(entries.c.id == sa.bindparam('entry_id'))
                             .values(chain_seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev'),
                                     entry_hash=sa.bindparam('hash')), updates)
            if len(rows) < 2000:
                break
        bind.execute(sa.insert(chains).values(org_id=org_id, seq=place, hash=previous))


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_org_id_object_at_id')
        batch_op.drop_index('ix_audit_entries_org_id_action_at_id')
        batch_op.drop_index('ix_audit_entries_org_id_actor_at_id')
        batch_op.drop_index('uq_audit_entries_org_id_chain_seq')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chains')
