"""Create the four role groups with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CLINICAL = {
    "cohort": ["patient", "ketamineadministration"],
    "followup": [
        "followupcall", "callattempt", "nprsresponse", "hadsresponse", "sf12response",
        "adverseevent", "concomitanttreatment",
    ],
}
CONTACT = {"cohort": ["patientcontact"]}

# role -> (actions, model groups)
ROLES = {
    "nurse": [(("view", "add", "change"), CLINICAL), (("view", "add", "change"), CONTACT)],
    "clinician": [(("view", "change"), CLINICAL), (("view",), CONTACT)],
    "statistician": [(("view",), CLINICAL)],
    "data_manager": [
        (("view", "change"), CLINICAL),
        (("view", "add", "change"), {"cohort": ["site"], "accounts": ["user"]}),
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = {
            (app_label, f"{action}_{model}")
            for actions, models in grants
            for app_label, names in models.items()
            for model in names
            for action in actions
        }
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in sorted(codenames)
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("cohort", "0001_initial"),
        ("followup", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
