"""On PostgreSQL, trigram indexes for the recipients search (anywhere in the
e-mail, phone, first or last name: `LIKE '%…%'` and `UPPER(…) LIKE`).

SQLite has no trigram index: there the search reads the audience's unique
(audience, e-mail) and (audience, phone) indexes by prefix (`partnerhub.search`).
Created only on PostgreSQL; a no-op elsewhere, so one migration history serves
both databases.
"""

from django.db import migrations

INDEXES = {
    "recipient_email_trgm": "email gin_trgm_ops",
    "recipient_phone_trgm": "phone gin_trgm_ops",
    "recipient_first_name_trgm": "UPPER(first_name) gin_trgm_ops",
    "recipient_last_name_trgm": "UPPER(last_name) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON campaigns_recipient "
            f"USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0010_delivery_status_page_index")]

    operations = [migrations.RunPython(create, drop)]
