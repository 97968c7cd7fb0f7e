"""each organization's version of its licenses, on SQLite

A page of licenses is written once and answered again while its rows are as they were
(services/licenses.py). On SQLite that is told by license_versions: triggers add one to the
organization's version in the statement that inserts, changes or deletes a license, changes
the count of its licenses or renames a key, so every writer (the bulk loaders, `db copy` and a
hand-made UPDATE included) keeps it. An organization without a row has never changed since
the migration. PostgreSQL gets no table: there the xmin of each row version tells the same, and
a row every writer of an organization's licenses had to update would make them wait on each
other.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

_TRIGGERS = ('license_versions_insert', 'license_versions_update', 'license_versions_delete',
             'license_versions_count_insert', 'license_versions_count_update', 'license_versions_key_name')


def _add(org: str, when: str = '') -> str:
    # INSERT … SELECT for the condition; SQLite wants a WHERE before an upsert's ON CONFLICT anyway.
    return (f'INSERT INTO license_versions (org_id, version) SELECT {org}, 1 WHERE {when or "true"} '
            'ON CONFLICT (org_id) DO UPDATE SET version = version + 1;')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        return
    op.create_table(
        'license_versions',
        sa.Column('org_id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False),
    )
    moved = 'OLD.org_id IS NOT NEW.org_id'
    for statement in (
        f'CREATE TRIGGER license_versions_insert AFTER INSERT ON licenses BEGIN {_add("NEW.org_id")} END',
        f'CREATE TRIGGER license_versions_delete AFTER DELETE ON licenses BEGIN {_add("OLD.org_id")} END',
        (f'CREATE TRIGGER license_versions_update AFTER UPDATE ON licenses '
         f'BEGIN {_add("NEW.org_id")} {_add("OLD.org_id", moved)} END'),
        f'CREATE TRIGGER license_versions_count_insert AFTER INSERT ON license_counts BEGIN {_add("NEW.org_id")} END',
        (f'CREATE TRIGGER license_versions_count_update AFTER UPDATE ON license_counts '
         f'BEGIN {_add("NEW.org_id")} {_add("OLD.org_id", moved)} END'),
        (f'CREATE TRIGGER license_versions_key_name AFTER UPDATE OF name, org_id ON activation_keys '
         f'BEGIN {_add("NEW.org_id")} {_add("OLD.org_id", moved)} END'),
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        return
    for trigger in _TRIGGERS:
        op.execute(f'DROP TRIGGER {trigger}')
    op.drop_table('license_versions')
