"""PostgreSQL: the search vector stored in a generated column, GIN-indexed.

The index of 0002 was on the expression to_tsvector('simple', search_text): the index found
matching rows, but every other use (a recheck, a count, deciding whether a word is rare)
rebuilt each row's vector from its text, about 44 µs a message — 99 ms for a common word on a
100,000-message mailbox (benchmarks/reading.py). Stored once when the text is written, it is
read instead. SQLite's FTS5 table (0002) already stores its index apart: nothing to do there.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE mailbox_message ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
    "DROP INDEX IF EXISTS mailbox_message_search",
    "CREATE INDEX mailbox_message_search_vector ON mailbox_message USING GIN (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS mailbox_message_search_vector",
    "ALTER TABLE mailbox_message DROP COLUMN IF EXISTS search_vector",
    "CREATE INDEX mailbox_message_search ON mailbox_message "
    "USING GIN (to_tsvector('simple', search_text))",
]


def _on_postgres(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("mailbox", "0004_trusted_senders")]

    operations = [migrations.RunPython(_on_postgres(FORWARD), _on_postgres(BACKWARD))]
