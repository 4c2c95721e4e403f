"""Let data managers read the sign-in log (django-axes) and the export log, read only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEWS = {
    "axes": ("view_accessattempt", "view_accesslog", "view_accessfailurelog"),
    "analytics": ("view_exportlog",),
}


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codenames in VIEWS.items()
        for codename in codenames
    ]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="data_manager")
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="data_manager"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_data_manager_wording"),
        ("analytics", "0003_export_log_api_source"),
        ("axes", "0010_accessattemptexpiration"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
