"""Let data managers load the licensed wording of questionnaire items."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ("view_itemwording", "add_itemwording", "change_itemwording")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="data_manager")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="followup", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="data_manager"):
        group.permissions.remove(*Permission.objects.filter(codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_roles"),
        ("followup", "0002_item_wording"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
