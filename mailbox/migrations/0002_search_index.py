"""Full-text search over Message.search_text, in each database's own way.

PostgreSQL: a GIN index on to_tsvector('simple', search_text) — 'simple' because mail comes in
every language and a stemmer for one would mangle the others. SQLite: an FTS5 table that
mirrors search_text through triggers (external content, so the text is stored once).
mailbox/search.py queries both with the same expressions.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE INDEX mailbox_message_search ON mailbox_message "
    "USING GIN (to_tsvector('simple', search_text))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS mailbox_message_search"]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE mailbox_message_fts USING fts5(search_text, content='mailbox_message', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER mailbox_message_fts_insert AFTER INSERT ON mailbox_message BEGIN "
    "INSERT INTO mailbox_message_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER mailbox_message_fts_delete AFTER DELETE ON mailbox_message BEGIN "
    "INSERT INTO mailbox_message_fts(mailbox_message_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER mailbox_message_fts_update AFTER UPDATE OF search_text ON mailbox_message "
    "BEGIN INSERT INTO mailbox_message_fts(mailbox_message_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO mailbox_message_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS mailbox_message_fts_update",
    "DROP TRIGGER IF EXISTS mailbox_message_fts_delete",
    "DROP TRIGGER IF EXISTS mailbox_message_fts_insert",
    "DROP TABLE IF EXISTS mailbox_message_fts",
]


def _run(statements_by_vendor: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("mailbox", "0001_local_store")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
