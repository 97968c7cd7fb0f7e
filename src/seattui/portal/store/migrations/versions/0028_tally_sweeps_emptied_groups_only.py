"""license_tally's emptied groups are looked for only when a statement emptied one, on PostgreSQL

The statement-level trigger of 0020 ended every insert, change or delete of licenses by
deleting the organization's groups left at zero, a walk of all its groups (7,600 at 100,000
licenses): 0.6 ms of the 2.8 ms a group of 16 device activations took to update its licenses,
and more the larger the organization. Only a group counted down can reach zero, so the groups
counted down now say whether one did (the update's RETURNING), and the walk runs only then.
SQLite's triggers, row by row, delete the one group they count down already.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""

from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_KEY = ('org_id', 'product_id', 'term', 'activated', 'ends_on', 'renews')


def _key(a: str) -> dict[str, str]:
    """The tally's key of a row of a transition table, as SQL (as 0020's)."""
    return {
        'org_id': f'{a}.org_id', 'product_id': f'{a}.product_id', 'term': f'{a}.term',
        'activated': f'({a}.device_fingerprint IS NOT NULL)',
        'ends_on': (f"COALESCE(CASE {a}.term WHEN 'trial' THEN {a}.trial_ends_on WHEN 'permanent' THEN "
                    f"{a}.support_ends_on WHEN 'annual' THEN {a}.term_ends_on END, DATE '9999-12-31')"),
        'renews': f"(COALESCE({a}.renewal, 'same') <> 'end')",
    }


def _rows(alias: str, table: str, change: int) -> str:
    named = ', '.join(f'{value} AS {column}' for column, value in _key(alias).items())
    return f'SELECT {named}, {change} AS change FROM {table} {alias}'


def _apply(changes: str, *, sweep_all: bool) -> str:
    columns = ', '.join(_KEY)
    tally_key = ', '.join(f't.{column}' for column in _KEY)
    same_group = ' AND '.join(f't.{column} = g.{column}' for column in _KEY)
    lowered = (f"""UPDATE license_tally t SET licenses = t.licenses + g.change
                    FROM (SELECT {columns}, sum(change) AS change FROM ({changes}) d GROUP BY {columns}
                          HAVING sum(change) < 0) g
                    WHERE {same_group}""")
    sweep = (f"""DELETE FROM license_tally t
                    WHERE t.org_id IN (SELECT DISTINCT org_id FROM ({changes}) d) AND t.licenses = 0;""")
    if sweep_all:  # 0020's: every statement walks the organizations' groups
        counted_down = f'{lowered};\n                    {sweep}'
    else:
        counted_down = f"""WITH lowered AS ({lowered} RETURNING t.licenses)
                    SELECT count(*) FILTER (WHERE licenses = 0) INTO emptied FROM lowered;
                    IF emptied > 0 THEN
                        {sweep}
                    END IF;"""
    # The groups' rows are locked in one order first, so two statements moving licenses
    # between the same groups in opposite directions cannot deadlock.
    return f"""
                    PERFORM 1 FROM license_tally t WHERE ({tally_key}) IN (SELECT {columns} FROM ({changes}) d)
                        ORDER BY {tally_key} FOR UPDATE;
                    INSERT INTO license_tally AS t ({columns}, licenses)
                    SELECT {columns}, sum(change) FROM ({changes}) d GROUP BY {columns}
                        HAVING sum(change) > 0 ORDER BY {columns}
                    ON CONFLICT ({columns}) DO UPDATE SET licenses = t.licenses + excluded.licenses;
                    {counted_down}"""


def _function(*, sweep_all: bool) -> str:
    def group_keys(alias: str, table: str) -> str:
        return f"SELECT {', '.join(_key(alias).values())} FROM {table} {alias}"

    both = _rows('o', 'old_rows', -1) + ' UNION ALL ' + _rows('n', 'new_rows', 1)
    return f"""CREATE OR REPLACE FUNCTION license_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                emptied bigint;
            BEGIN
                IF TG_OP = 'INSERT' THEN{_apply(_rows('n', 'new_rows', 1), sweep_all=sweep_all)}
                ELSIF TG_OP = 'DELETE' THEN{_apply(_rows('o', 'old_rows', -1), sweep_all=sweep_all)}
                ELSE
                    -- Most updates (an email, a comment, a payment) move no license to another group.
                    IF NOT EXISTS ({group_keys('o', 'old_rows')} EXCEPT ALL {group_keys('n', 'new_rows')}) THEN
                        RETURN NULL;
                    END IF;{_apply(both, sweep_all=sweep_all)}
                END IF;
                RETURN NULL;
            END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_function(sweep_all=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_function(sweep_all=True))
