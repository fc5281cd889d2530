"""The store's indexes: every foreign key still leads one, and none repeats another's lead.

An index that another index's leading columns already serve costs each row the sync writes an
index insert and serves nothing (migration 0014); a foreign key with no index under it makes
deleting an account or a folder scan whole tables.
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

SYNC_TABLES = ["Message", "MessageLocation", "Attachment", "RawBlob", "Thread"]


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] or info["unique"] or info["primary_key"]
    }


@pytest.mark.parametrize("model_name", SYNC_TABLES)
def test_every_foreign_key_leads_an_index(model_name: str) -> None:
    model = apps.get_model("mailbox", model_name)
    leading = {columns[0] for columns in _indexes(model._meta.db_table).values() if columns}

    foreign_keys = [f.column for f in model._meta.concrete_fields if f.is_relation]

    assert foreign_keys
    assert [column for column in foreign_keys if column not in leading] == []


@pytest.mark.parametrize("model_name", SYNC_TABLES)
def test_no_plain_index_is_the_lead_of_another(model_name: str) -> None:
    table = apps.get_model("mailbox", model_name)._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    indexes = _indexes(table)
    plain = {
        name: columns
        for name, columns in indexes.items()
        if not constraints[name]["unique"] and not constraints[name]["primary_key"]
    }

    repeated = [
        (name, other)
        for name, columns in plain.items()
        for other, longer in indexes.items()
        if other != name and longer[: len(columns)] == columns
    ]

    assert repeated == []
