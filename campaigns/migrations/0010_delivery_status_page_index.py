"""The deliveries table filtered by status reads (campaign, status, id) in order.

On PostgreSQL the former (campaign, status) index left the rows of one status
in heap order, so a page in id order sorted every delivery of that status.
On a SQLite database that has statistics (`sqlite_stat1`), the new index gets
its own at once: a new index without them looks so selective to SQLite's planner
that it would read the whole campaign through it and sort, instead of the
campaign index already in id order.
"""

from django.db import migrations, models


def analyze_on_sqlite(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        )
        if cursor.fetchone():
            cursor.execute("ANALYZE campaigns_delivery")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_merge_fields"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="campaigns_d_campaig_bce08b_idx",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["campaign", "status", "id"], name="delivery_status_page_idx"
            ),
        ),
        migrations.RunPython(analyze_on_sqlite, migrations.RunPython.noop),
    ]
