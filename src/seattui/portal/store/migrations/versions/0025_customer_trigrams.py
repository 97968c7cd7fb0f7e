"""the customers filter through a trigram index

The customers list's `/` filter looks for each word in the email, name and company. Without an
index it read every customer of the organization for each keystroke. On SQLite an FTS5 table
(customer_trigrams, contentless, the three fields of a customer as one text, kept by triggers
on customers) names the candidates, as license_trigrams does for licenses; on PostgreSQL a
pg_trgm GIN index on each of the three columns, when the extension exists or can be created
(else the filter scans, as before).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_FIELDS = ('email', 'name', 'company')


def _text(row: str) -> str:
    # A line break between the fields: no word typed in the filter holds one, so no trigram
    # across two fields makes a candidate of what no field holds (the LIKE would refuse it anyway).
    return " || char(10) || ".join(f'{row}.{field}' for field in _FIELDS)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        try:
            with bind.begin_nested():
                bind.exec_driver_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except sa.exc.DBAPIError:
            return
        for field in _FIELDS:
            op.execute(f'CREATE INDEX ix_customers_{field}_trigrams ON customers USING gin ({field} gin_trgm_ops)')
        return
    op.execute("CREATE VIRTUAL TABLE customer_trigrams USING fts5(text, tokenize='trigram', content='', detail='none')")
    op.execute(f'INSERT INTO customer_trigrams (rowid, text) SELECT id, {_text("customers")} FROM customers')
    op.execute('CREATE TRIGGER customer_trigrams_insert AFTER INSERT ON customers BEGIN '
               f'INSERT INTO customer_trigrams (rowid, text) VALUES (NEW.id, {_text("NEW")}); END')
    op.execute('CREATE TRIGGER customer_trigrams_delete AFTER DELETE ON customers BEGIN '
               f"INSERT INTO customer_trigrams (customer_trigrams, rowid, text) VALUES ('delete', OLD.id, {_text('OLD')}); "
               'END')
    op.execute(f'CREATE TRIGGER customer_trigrams_update AFTER UPDATE OF id, {", ".join(_FIELDS)} ON customers BEGIN '
               f"INSERT INTO customer_trigrams (customer_trigrams, rowid, text) VALUES ('delete', OLD.id, {_text('OLD')}); "
               f'INSERT INTO customer_trigrams (rowid, text) VALUES (NEW.id, {_text("NEW")}); END')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for field in _FIELDS:
            op.execute(f'DROP INDEX IF EXISTS ix_customers_{field}_trigrams')
        return
    for trigger in ('customer_trigrams_insert', 'customer_trigrams_delete', 'customer_trigrams_update'):
        op.execute(f'DROP TRIGGER {trigger}')
    op.execute('DROP TABLE customer_trigrams')
