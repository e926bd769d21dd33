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


# Search, second form (migration e2b7c4d9a1f3): a stored `search_bigrams` tsvector on
# customer_search and timeline_entry, split the way app.db.bigrams splits for SQLite's index
# (every pair of neighbouring letters/digits, plus the last one of each run, lower-cased),
# kept by BEFORE triggers on every write path and searched through a GIN index. A stored
# column, unlike an expression index, is never recomputed while a query rechecks rows.
BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION hearth_bigrams(body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    pieces text[] := '{}';
    run text;
    k integer := 0;
BEGIN
    -- A loop filling an array by position: about 3x faster than a set-returning query here.
    FOREACH run IN ARRAY regexp_split_to_array(lower(coalesce(body, '')), '[^[:alnum:]]+') LOOP
        FOR i IN 1..length(run) LOOP
            k := k + 1;
            pieces[k] := substr(run, i, 2);
        END LOOP;
    END LOOP;
    RETURN array_to_tsvector(pieces);
END
$$
"""

# The query's pieces, split by the same rules in the same database (so a text and a query
# never disagree on what a letter is): each run's pairs; a 1-character run is a prefix.
# NULL when the query has no letters or digits at all.
BIGRAM_QUERY_FUNCTION = """
CREATE OR REPLACE FUNCTION hearth_bigram_query(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT string_agg(DISTINCT piece, ' & ')
    FROM regexp_matches(lower(coalesce(query, '')), '[[:alnum:]]+', 'g') AS run,
         LATERAL (
             SELECT '''' || run[1] || ''':*' AS piece WHERE length(run[1]) = 1
             UNION ALL
             SELECT '''' || substr(run[1], i, 2) || ''''
             FROM generate_series(1, length(run[1]) - 1) AS i
         ) AS pieces
$$
"""

# Campaign mails stay out of search (NULL), as in SQLite's triggers.
BIGRAM_TRIGGER_FUNCTIONS = """
CREATE OR REPLACE FUNCTION hearth_entry_bigrams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_bigrams := CASE WHEN NEW.action IS DISTINCT FROM 'campaign'
                               THEN hearth_bigrams(NEW.body) END;
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION hearth_document_bigrams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_bigrams := hearth_bigrams(NEW.body);
    RETURN NEW;
END
$$
"""

BIGRAM_INDEXES = {
    "ix_customer_search_bigrams": "customer_search",
    "ix_timeline_entry_bigrams": "timeline_entry",
}


def bigram_search_functions() -> list[str]:
    return [BIGRAMS_FUNCTION, BIGRAM_QUERY_FUNCTION, BIGRAM_TRIGGER_FUNCTIONS]


def bigram_triggers() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS customer_search_bigrams ON customer_search",
        "CREATE TRIGGER customer_search_bigrams BEFORE INSERT OR UPDATE OF body "
        "ON customer_search FOR EACH ROW EXECUTE FUNCTION hearth_document_bigrams()",
        "DROP TRIGGER IF EXISTS timeline_entry_bigrams ON timeline_entry",
        "CREATE TRIGGER timeline_entry_bigrams BEFORE INSERT OR UPDATE OF body, action "
        "ON timeline_entry FOR EACH ROW EXECUTE FUNCTION hearth_entry_bigrams()",
    ]


def bigram_indexes() -> list[str]:
    # New rows wait in GIN's pending list, which every search reads through: after an
    # import of 10,000 rows a search took 10 ms reading it instead of 0.1. A 256 kB list
    # (not the default 4 MB) keeps that read short and still batches the writes.
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_bigrams) "
        "WITH (gin_pending_list_limit = 256)"
        for name, table in BIGRAM_INDEXES.items()
    ]


def drop_bigram_indexes() -> list[str]:
    return [f"DROP INDEX IF EXISTS {name}" for name in BIGRAM_INDEXES]


def fill_bigrams(table: str, first_id: int, last_id: int) -> str:
    """One batch of the backfill: the rows first_id..last_id (the triggers do new writes)."""
    value = "hearth_bigrams(body)"
    if table == "timeline_entry":
        value = f"CASE WHEN action IS DISTINCT FROM 'campaign' THEN {value} END"
    return (
        f"UPDATE {table} SET search_bigrams = {value} "
        f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)}"
    )
