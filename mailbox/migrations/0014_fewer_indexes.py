"""Drops the indexes that another index's leading columns already serve.

Each index costs every row the sync writes an index insert (10,000 body updates took a
quarter longer with the two extra indexes on messages). The foreign keys keep their
constraints; only their lone indexes go, plus PostgreSQL's LIKE index on Message-ID, which
no query uses. Dropped by name rather than by AlterField: on SQLite, AlterField rebuilds the
whole table (every row copied, twice for messages), and a rebuilt messages table loses the
triggers that keep its full-text index current (migration 0002).
"""

import django.db.models.deletion
from django.db import migrations, models

# (index, table, column): Django's own names for them, the same on both databases.
LONE_INDEXES = [
    ("mailbox_attachment_message_id_e91a4b97", "mailbox_attachment", "message_id"),
    ("mailbox_message_account_id_742f23d3", "mailbox_message", "account_id"),
    ("mailbox_message_message_id_98b7e233", "mailbox_message", "message_id"),
    ("mailbox_messagelocation_folder_id_f0c4753e", "mailbox_messagelocation", "folder_id"),
    ("mailbox_rawblob_account_id_2cec0a71", "mailbox_rawblob", "account_id"),
    ("mailbox_thread_account_id_9a4a2014", "mailbox_thread", "account_id"),
]
POSTGRES_LIKE_INDEX = "mailbox_message_message_id_98b7e233_like"


def _foreign_key(to: str, related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_oauth_grant"),
        ("mailbox", "0013_search_words"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name, _, _ in LONE_INDEXES]
                    + [f'DROP INDEX IF EXISTS "{POSTGRES_LIKE_INDEX}"'],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
                        for name, table, column in LONE_INDEXES
                    ],
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="attachment",
                    name="message",
                    field=_foreign_key("mailbox.message", "attachments"),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="account",
                    field=_foreign_key("accounts.mailaccount", "messages"),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="message_id",
                    field=models.CharField(blank=True, max_length=998),
                ),
                migrations.AlterField(
                    model_name="messagelocation",
                    name="folder",
                    field=_foreign_key("mailbox.folder", "locations"),
                ),
                migrations.AlterField(
                    model_name="rawblob",
                    name="account",
                    field=_foreign_key("accounts.mailaccount", "+"),
                ),
                migrations.AlterField(
                    model_name="thread",
                    name="account",
                    field=_foreign_key("accounts.mailaccount", "threads"),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["message_id"], name="message_by_message_id"),
        ),
    ]
