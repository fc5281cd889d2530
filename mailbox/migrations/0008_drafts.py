# Drafts (issue 6, point 3): one row per (user, Message-ID), with where its server copy is.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sync_schedule"),
        ("mailbox", "0007_outbox_sent_copy_and_cancel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Draft",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("message_id", models.CharField(max_length=255)),
                ("to", models.TextField(blank=True)),
                ("cc", models.TextField(blank=True)),
                ("bcc", models.TextField(blank=True)),
                ("subject", models.TextField(blank=True)),
                ("text", models.TextField(blank=True)),
                ("html", models.TextField(blank=True)),
                ("in_reply_to", models.TextField(blank=True)),
                ("references", models.TextField(blank=True)),
                ("version", models.PositiveIntegerField(default=1)),
                ("saved_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("server_folder", models.CharField(blank=True, max_length=1000)),
                ("server_uid", models.BigIntegerField(blank=True, null=True)),
                ("server_version", models.PositiveIntegerField(default=0)),
                ("server_error", models.TextField(blank=True)),
                ("claimed_by", models.CharField(blank=True, max_length=100)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                (
                    "identity",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.identity",
                    ),
                ),
                (
                    "server_account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.mailaccount",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-saved_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "message_id"), name="one_draft_per_message_id"
                    )
                ],
            },
        ),
    ]
