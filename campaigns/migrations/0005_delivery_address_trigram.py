"""On PostgreSQL, a trigram index for the deliveries search (`address LIKE '%…%'`).

SQLite has no trigram index: there the search reads the campaign's deliveries.
The extension and the index are created only on PostgreSQL; the migration is a
no-op elsewhere, so the same migration history serves both databases.
"""

from django.db import migrations

INDEX = "delivery_address_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON campaigns_delivery "
        "USING gin (address gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_campaign_counts")]

    operations = [migrations.RunPython(create, drop)]
