"""the dashboard's license figures and key count kept by the database

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01

license_tally counts each organization's licenses by product, term, activated or not, the
day the term's clock runs out and whether an annual contract renews; triggers on `licenses`
keep it in the statement that inserts, changes or deletes a license (every writer, the bulk
loaders and `db copy` included), so the dashboard reads a few thousand rows instead of
every license (4.1 s at 1,000,000 licenses before). key_counts, kept by triggers on
activation_keys, is the count of keys (100 ms for 500,000 keys before).

And the `/` filter's substring search gets an index of trigrams: on SQLite an FTS5 table
(license_trigrams, contentless, kept by triggers on license_search), on PostgreSQL a pg_trgm
GIN index on license_search.text when the extension can be created (else the filter scans,
as before).
"""

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_KEY = ('org_id', 'product_id', 'term', 'activated', 'ends_on', 'renews')


def _no_end(dialect: str) -> str:
    return "DATE '9999-12-31'" if dialect == 'postgresql' else "'9999-12-31'"


def _key(row: str, dialect: str) -> dict[str, str]:
    """The tally's key of a licenses row (NEW, OLD, or the table itself), as SQL."""
    return {
        'org_id': f'{row}.org_id',
        'product_id': f'{row}.product_id',
        'term': f'{row}.term',
        'activated': f'({row}.device_fingerprint IS NOT NULL)',
        'ends_on': (f"COALESCE(CASE {row}.term WHEN 'trial' THEN {row}.trial_ends_on "
                    f"WHEN 'permanent' THEN {row}.support_ends_on WHEN 'annual' THEN {row}.term_ends_on END, "
                    f'{_no_end(dialect)})'),
        'renews': f"(COALESCE({row}.renewal, 'same') <> 'end')",
    }


def _matches(row: str, dialect: str) -> str:
    return ' AND '.join(f'{column} = {value}' for column, value in _key(row, dialect).items())


def _key_changed() -> str:
    # The columns the key is made of; an edit of the comment or the email runs no trigger.
    columns = ('org_id', 'product_id', 'term', 'device_fingerprint', 'trial_ends_on', 'support_ends_on',
               'term_ends_on', 'renewal')
    return ' OR '.join(f'OLD.{column} IS DISTINCT FROM NEW.{column}' for column in columns)


def _sqlite_triggers() -> list[str]:
    def add(row: str) -> str:
        values = ', '.join(_key(row, 'sqlite').values())
        return (f"INSERT INTO license_tally ({', '.join(_KEY)}, licenses) VALUES ({values}, 1) "
                f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET licenses = licenses + 1;")

    def remove(row: str) -> str:
        where = _matches(row, 'sqlite')
        return (f'UPDATE license_tally SET licenses = licenses - 1 WHERE {where}; '
                f'DELETE FROM license_tally WHERE {where} AND licenses = 0;')

    # SQLite spells IS DISTINCT FROM as IS NOT.
    changed = _key_changed().replace('IS DISTINCT FROM', 'IS NOT')
    return [
        f'CREATE TRIGGER license_tally_insert AFTER INSERT ON licenses BEGIN {add("NEW")} END',
        f'CREATE TRIGGER license_tally_delete AFTER DELETE ON licenses BEGIN {remove("OLD")} END',
        (f'CREATE TRIGGER license_tally_update AFTER UPDATE ON licenses WHEN {changed} '
         f'BEGIN {remove("OLD")} {add("NEW")} END'),
    ]


def _postgresql_triggers() -> list[str]:
    # Counted once per statement, by group, from the statement's transition tables: PostgreSQL
    # updating one row again and again in a transaction follows a longer chain of its versions
    # each time (10,000 updates 4.6 s, 20,000 19 s), so a COPY, a batch delete or a batch of
    # support extensions must not go row by row.
    key_columns = ', '.join(_KEY)
    tally_key = ', '.join(f't.{column}' for column in _KEY)
    same_group = ' AND '.join(f't.{column} = g.{column}' for column in _KEY)

    def rows(alias: str, table: str, change: int) -> str:
        named = ', '.join(f'{value} AS {column}' for column, value in _key(alias, 'postgresql').items())
        return f'SELECT {named}, {change} AS change FROM {table} {alias}'

    def apply(changes: str) -> str:
        # The groups' rows are locked in one order first, so two statements moving licenses
        # between the same groups in opposite directions cannot deadlock.
        return f"""
                    PERFORM 1 FROM license_tally t WHERE ({tally_key}) IN (SELECT {key_columns} FROM ({changes}) d)
                        ORDER BY {tally_key} FOR UPDATE;
                    INSERT INTO license_tally AS t ({key_columns}, licenses)
                    SELECT {key_columns}, sum(change) FROM ({changes}) d GROUP BY {key_columns}
                        HAVING sum(change) > 0 ORDER BY {key_columns}
                    ON CONFLICT ({key_columns}) DO UPDATE SET licenses = t.licenses + excluded.licenses;
                    UPDATE license_tally t SET licenses = t.licenses + g.change
                    FROM (SELECT {key_columns}, sum(change) AS change FROM ({changes}) d GROUP BY {key_columns}
                          HAVING sum(change) < 0) g
                    WHERE {same_group};
                    -- The organizations' emptied groups: a range of the primary key (a semi-join
                    -- on the six columns was planned as a nested loop, 3.4 s for 5,000 rows).
                    DELETE FROM license_tally t
                    WHERE t.org_id IN (SELECT DISTINCT org_id FROM ({changes}) d) AND t.licenses = 0;"""

    def group_keys(alias: str, table: str) -> str:
        return f"SELECT {', '.join(_key(alias, 'postgresql').values())} FROM {table} {alias}"

    return [
        f"""CREATE FUNCTION license_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN{apply(rows('n', 'new_rows', 1))}
                ELSIF TG_OP = 'DELETE' THEN{apply(rows('o', 'old_rows', -1))}
                ELSE
                    -- Most updates (an email, a comment, a payment) move no license to another group.
                    -- (Compared as sets, not joined: transition tables have no statistics, and a
                    -- join of two 5,000-row ones was planned as a nested loop.)
                    IF NOT EXISTS ({group_keys('o', 'old_rows')} EXCEPT ALL {group_keys('n', 'new_rows')}) THEN
                        RETURN NULL;
                    END IF;{apply(rows('o', 'old_rows', -1) + ' UNION ALL ' + rows('n', 'new_rows', 1))}
                END IF;
                RETURN NULL;
            END $$""",
        ('CREATE TRIGGER license_tally_insert AFTER INSERT ON licenses REFERENCING NEW TABLE AS new_rows '
         'FOR EACH STATEMENT EXECUTE FUNCTION license_tally_rows()'),
        ('CREATE TRIGGER license_tally_delete AFTER DELETE ON licenses REFERENCING OLD TABLE AS old_rows '
         'FOR EACH STATEMENT EXECUTE FUNCTION license_tally_rows()'),
        ('CREATE TRIGGER license_tally_update AFTER UPDATE ON licenses REFERENCING OLD TABLE AS old_rows '
         'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION license_tally_rows()'),
    ]


def _key_count_triggers(dialect: str) -> list[str]:
    def add(row: str, change: int) -> str:
        return (f'INSERT INTO key_counts (org_id, keys) VALUES ({row}.org_id, {change}) '
                f'ON CONFLICT (org_id) DO UPDATE SET keys = key_counts.keys + {change};')

    if dialect == 'postgresql':
        return [
            f"""CREATE FUNCTION key_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {add('NEW', 1)}
                    {add('OLD', -1)}
                    RETURN NULL;
                END $$""",
            # Once per statement, as license_tally's: one row updated per key would be slow.
            """CREATE FUNCTION key_counts_rows() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO key_counts AS k (org_id, keys)
                        SELECT org_id, count(*) FROM new_rows GROUP BY org_id ORDER BY org_id
                        ON CONFLICT (org_id) DO UPDATE SET keys = k.keys + excluded.keys;
                    ELSE
                        UPDATE key_counts k SET keys = k.keys - gone.keys
                        FROM (SELECT org_id, count(*) AS keys FROM old_rows GROUP BY org_id) gone
                        WHERE k.org_id = gone.org_id;
                    END IF;
                    RETURN NULL;
                END $$""",
            ('CREATE TRIGGER key_counts_insert AFTER INSERT ON activation_keys REFERENCING NEW TABLE AS new_rows '
             'FOR EACH STATEMENT EXECUTE FUNCTION key_counts_rows()'),
            ('CREATE TRIGGER key_counts_delete AFTER DELETE ON activation_keys REFERENCING OLD TABLE AS old_rows '
             'FOR EACH STATEMENT EXECUTE FUNCTION key_counts_rows()'),
            ('CREATE TRIGGER key_counts_update AFTER UPDATE ON activation_keys FOR EACH ROW '
             'WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id) EXECUTE FUNCTION key_counts_change()'),
        ]
    return [
        f'CREATE TRIGGER key_counts_insert AFTER INSERT ON activation_keys BEGIN {add("NEW", 1)} END',
        f'CREATE TRIGGER key_counts_delete AFTER DELETE ON activation_keys BEGIN {add("OLD", -1)} END',
        (f'CREATE TRIGGER key_counts_update AFTER UPDATE OF org_id ON activation_keys WHEN OLD.org_id IS NOT NEW.org_id '
         f'BEGIN {add("NEW", 1)} {add("OLD", -1)} END'),
    ]


def _trigram_index(dialect: str) -> None:
    if dialect == 'postgresql':
        # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it. Where
        # it may not be created, the filter keeps scanning license_search, as it did.
        bind = op.get_bind()
        try:
            with bind.begin_nested():
                bind.exec_driver_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except sa.exc.DBAPIError:
            return
        op.execute('CREATE INDEX ix_license_search_text_trigrams ON license_search USING gin (text gin_trgm_ops)')
        return
    # detail='none': the smallest index; each trigram finds candidates, and the LIKE on
    # license_search decides (services/licenses.py).
    op.execute("CREATE VIRTUAL TABLE license_trigrams USING fts5(text, tokenize='trigram', content='', detail='none')")
    op.execute('INSERT INTO license_trigrams (rowid, text) SELECT license_id, text FROM license_search')
    op.execute('CREATE TRIGGER license_trigrams_insert AFTER INSERT ON license_search BEGIN '
               'INSERT INTO license_trigrams (rowid, text) VALUES (NEW.license_id, NEW.text); END')
    op.execute("CREATE TRIGGER license_trigrams_delete AFTER DELETE ON license_search BEGIN "
               "INSERT INTO license_trigrams (license_trigrams, rowid, text) VALUES ('delete', OLD.license_id, OLD.text); "
               "END")
    op.execute("CREATE TRIGGER license_trigrams_update AFTER UPDATE ON license_search BEGIN "
               "INSERT INTO license_trigrams (license_trigrams, rowid, text) VALUES ('delete', OLD.license_id, OLD.text); "
               "INSERT INTO license_trigrams (rowid, text) VALUES (NEW.license_id, NEW.text); END")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'license_tally',
        sa.Column('org_id', _Id, nullable=False),
        sa.Column('product_id', sa.String(length=64), nullable=False),
        sa.Column('term', sa.String(length=16), nullable=False),
        sa.Column('activated', sa.Boolean(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('renews', sa.Boolean(), nullable=False),
        sa.Column('licenses', _Id, nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_license_tally_org_id_organizations')),
        sa.PrimaryKeyConstraint(*_KEY, name=op.f('pk_license_tally')),
    )
    key = _key('licenses', dialect)
    op.execute(f"INSERT INTO license_tally ({', '.join(_KEY)}, licenses) "
               f"SELECT {', '.join(key.values())}, count(*) FROM licenses GROUP BY {', '.join(key.values())}")
    for statement in _postgresql_triggers() if dialect == 'postgresql' else _sqlite_triggers():
        op.execute(statement)
    op.create_table(
        'key_counts',
        sa.Column('org_id', _Id, nullable=False),
        sa.Column('keys', _Id, nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_key_counts_org_id_organizations')),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_key_counts')),
    )
    op.execute('INSERT INTO key_counts (org_id, keys) SELECT org_id, count(*) FROM activation_keys GROUP BY org_id')
    for statement in _key_count_triggers(dialect):
        op.execute(statement)
    _trigram_index(dialect)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_license_search_text_trigrams')
    else:
        for trigger in ('license_trigrams_insert', 'license_trigrams_delete', 'license_trigrams_update'):
            op.execute(f'DROP TRIGGER {trigger}')
        op.execute('DROP TABLE license_trigrams')
    for trigger in ('key_counts_insert', 'key_counts_delete', 'key_counts_update'):
        op.execute(f'DROP TRIGGER {trigger} ON activation_keys' if op.get_bind().dialect.name == 'postgresql'
                   else f'DROP TRIGGER {trigger}')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION key_counts_change()')
        op.execute('DROP FUNCTION key_counts_rows()')
    op.drop_table('key_counts')
    for trigger in ('license_tally_insert', 'license_tally_delete', 'license_tally_update'):
        op.execute(f'DROP TRIGGER {trigger} ON licenses' if op.get_bind().dialect.name == 'postgresql'
                   else f'DROP TRIGGER {trigger}')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION license_tally_rows()')
    op.drop_table('license_tally')
