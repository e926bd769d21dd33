"""PostgreSQL's spelling of the schema objects that migrations write by hand for SQLite
(triggers, the search index). Migrations call these on PostgreSQL and keep their SQLite
statements as they were, so both databases come from the same history."""

# page_version (see migration c9d0e1f2a3b4): every change to something a customer page
# shows moves that customer's version (or the whole shop's, row 0).
PAGE_FUNCTION = """
CREATE OR REPLACE FUNCTION hearth_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
BEGIN
    IF TG_ARGV[0] = 'shop' THEN
        ids := ARRAY[0];
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY[(to_jsonb(NEW) ->> TG_ARGV[0])::integer];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[(to_jsonb(OLD) ->> TG_ARGV[0])::integer];
    ELSE
        ids := ARRAY[(to_jsonb(NEW) ->> TG_ARGV[0])::integer,
                     (to_jsonb(OLD) ->> TG_ARGV[0])::integer];
    END IF;
    INSERT INTO page_version (customer_id, version)
        SELECT DISTINCT id, 1 FROM unnest(ids) AS id WHERE id IS NOT NULL
        ON CONFLICT (customer_id) DO UPDATE SET version = page_version.version + 1;
    RETURN NULL;
END
$$
"""


def page_triggers(table: str, column: str | None, events=("INSERT", "UPDATE", "DELETE")):
    """One trigger per table: `column` names the customer, None = the whole shop."""
    argument = column or "shop"
    return [
        f'DROP TRIGGER IF EXISTS {table}_page ON "{table}"',
        f'CREATE TRIGGER {table}_page AFTER {" OR ".join(events)} ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION hearth_bump_page('{argument}')",
    ]


def drop_page_trigger(table: str) -> str:
    return f'DROP TRIGGER IF EXISTS {table}_page ON "{table}"'


# Search (see app.services.search): lower(body) LIKE '%query%' answers every query exactly;
# a trigram GIN index serves 3+ characters, and a GIN index over every 1- and 2-character
# piece of the text serves the short (CJK) queries pg_trgm cannot.
GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION hearth_grams(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(t, i, n)), '{}')
    FROM (SELECT lower(coalesce(body, '')) AS t) AS lowered,
         generate_series(1, length(t)) AS i,
         (VALUES (1), (2)) AS sizes(n)
    WHERE i + n - 1 <= length(t)
$$
"""

NOTES_INDEXED = "action IS DISTINCT FROM 'campaign'"  # campaign mails stay out of search


def search_indexes() -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        GRAMS_FUNCTION,
        "CREATE INDEX IF NOT EXISTS ix_customer_search_tri ON customer_search "
        "USING gin (lower(body) gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS ix_customer_search_grams ON customer_search "
        "USING gin (hearth_grams(body))",
        "CREATE INDEX IF NOT EXISTS ix_timeline_entry_tri ON timeline_entry "
        f"USING gin (lower(body) gin_trgm_ops) WHERE {NOTES_INDEXED}",
        "CREATE INDEX IF NOT EXISTS ix_timeline_entry_grams ON timeline_entry "
        f"USING gin (hearth_grams(body)) WHERE {NOTES_INDEXED}",
    ]


def drop_search_indexes() -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {name}"
        for name in (
            "ix_customer_search_tri", "ix_customer_search_grams",
            "ix_timeline_entry_tri", "ix_timeline_entry_grams",
        )
    ] + ["DROP FUNCTION IF EXISTS hearth_grams(text)"]  # fmt: skip
