"""Create the three role groups so a fresh database has them.

Their permissions are filled in by the post_migrate hook (`partnerhub.roles`), once
every app's permissions exist.
"""

from django.db import migrations

ROLE_NAMES = ("Marketing", "Admins", "PEC operators")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, remove_groups)]
