"""On PostgreSQL, trigram indexes for the unsubscribes search (anywhere in the
address, or the reason: `LIKE '%…%'` and `UPPER(reason) LIKE`).

SQLite has no trigram index: there the search reads the unique (channel,
address) index by prefix (`partnerhub.search`). Created only on PostgreSQL; a
no-op elsewhere, so one migration history serves both databases.
"""

from django.db import migrations

INDEXES = {
    "unsubscribe_address_trgm": "address gin_trgm_ops",
    "unsubscribe_reason_trgm": "UPPER(reason) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON unsubscribes_unsubscribe "
            f"USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("unsubscribes", "0005_merge_20261202_0303")]

    operations = [migrations.RunPython(create, drop)]
