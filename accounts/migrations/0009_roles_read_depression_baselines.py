"""Let the roles that read the MADRS and the SF-MPQ (0008) read the depression baselines too."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

BASELINES = ("view_depressionbaseline",)
VIEWS = {
    "nurse": {"followup": BASELINES},
    "clinician": {"followup": BASELINES},
    "statistician": {"followup": BASELINES},
    "data_manager": {"followup": BASELINES},
}


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codenames in grants.items()
        for codename in codenames
    ]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for role, grants in VIEWS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, grants in VIEWS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_roles_read_rated_assessments_and_studies"),
        ("followup", "0011_depression_baseline"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
