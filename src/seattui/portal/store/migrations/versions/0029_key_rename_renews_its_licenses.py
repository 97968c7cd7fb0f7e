"""a key renamed gives its licenses new row versions, on PostgreSQL

A kept page of licenses (services/licenses.py) is told unchanged on PostgreSQL by its rows'
xmin. A license's JSON holds its key's name, so the state read each page joined every row's
key for the key's xmin too: 0.15 ms of the 0.37 ms PostgreSQL spent on a page. Now renaming a
key (or moving it to another organization) updates its licenses in the same statement, so
their own xmin tells it, as 0027's trigger on SQLite adds to the organization's version. Keys
are renamed seldom and hold few licenses; every writer, a hand-made UPDATE included, keeps it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('''
        CREATE FUNCTION key_renamed_licenses() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- An UPDATE writes new row versions even of values unchanged: their xmin is new.
            UPDATE licenses SET key_id = key_id WHERE key_id = NEW.id;
            RETURN NULL;
        END $$''')
    op.execute('CREATE TRIGGER key_renamed_licenses AFTER UPDATE OF name, org_id ON activation_keys '
               'FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.org_id IS DISTINCT FROM NEW.org_id) '
               'EXECUTE FUNCTION key_renamed_licenses()')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER key_renamed_licenses ON activation_keys')
    op.execute('DROP FUNCTION key_renamed_licenses()')
