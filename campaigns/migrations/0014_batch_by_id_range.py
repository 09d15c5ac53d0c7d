"""A batch is recorded by the id range of its deliveries; three delivery indexes go.

Recording a batch used to write each of its deliveries (`batch`), then its answer
wrote them again; now the batch row holds the id range and the answer writes each
delivery once. The ranges of existing batches are filled from their deliveries,
and the deliveries of batches still in flight lose their `batch` (pending rows
are owned by no batch until answered), before the `batch` index goes.

Dropped: the partial `delivery_unbatched_idx` (the `(campaign, status, id)` index
serves the next batch), the `batch` index (batches are read by id range), the
`recipient` index (the per-recipient unique constraint now leads with it) and,
on PostgreSQL, the address trigram index, which doubled the cost of each write
(the deliveries search finds recipients by their own trigram indexes instead).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max, Min, OuterRef, Subquery


TRIGRAM = "delivery_address_trgm"  # 0005: PostgreSQL only


def drop_trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM}")


def create_trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM} ON campaigns_delivery "
            "USING gin (address gin_trgm_ops)"
        )


def fill_ranges(apps, schema_editor):
    batches = apps.get_model("campaigns", "DispatchBatch")
    deliveries = apps.get_model("campaigns", "Delivery")
    owned = deliveries.objects.filter(batch=OuterRef("pk")).values("batch")
    batches.objects.update(
        first_delivery_id=Subquery(owned.annotate(n=Min("id")).values("n")),
        last_delivery_id=Subquery(owned.annotate(n=Max("id")).values("n")),
    )
    deliveries.objects.filter(status="pending", batch__isnull=False).update(batch=None)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0013_import_report_adds_up"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatchbatch",
            name="first_delivery_id",
            field=models.BigIntegerField(null=True, verbose_name="first delivery"),
        ),
        migrations.AddField(
            model_name="dispatchbatch",
            name="last_delivery_id",
            field=models.BigIntegerField(null=True, verbose_name="last delivery"),
        ),
        migrations.RunPython(fill_ranges, migrations.RunPython.noop),
        migrations.RunPython(drop_trigram, create_trigram),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_unbatched_idx",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="deliveries",
                to="campaigns.dispatchbatch",
                verbose_name="batch",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="delivery",
            name="unique_delivery_per_recipient",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="recipient",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="deliveries",
                to="campaigns.recipient",
                verbose_name="recipient",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                fields=("recipient", "campaign"), name="unique_delivery_per_recipient"
            ),
        ),
    ]
