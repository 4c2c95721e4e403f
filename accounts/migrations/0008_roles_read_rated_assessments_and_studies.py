"""Let the roles that read the clinical rows read the MADRS and the SF-MPQ too (as 0003 grants
for the other questionnaires), and data managers the studies, read only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ASSESSMENTS = ("view_madrsassessment", "view_sfmpqassessment")
VIEWS = {
    "nurse": {"followup": ASSESSMENTS},
    "clinician": {"followup": ASSESSMENTS},
    "statistician": {"followup": ASSESSMENTS},
    "data_manager": {"followup": ASSESSMENTS, "cohort": ("view_study",)},
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
        ("accounts", "0007_user_administration_by_data_managers"),
        ("followup", "0010_merge_20261207_0253"),
        ("cohort", "0009_studies"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
