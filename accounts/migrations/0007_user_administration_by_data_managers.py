"""Users are administered in the application: a required password change, and no user rights
for the data-manager group in the administration site (which is for superusers only)."""

from django.db import migrations, models

USER_RIGHTS = ("add_user", "change_user", "delete_user")


def revoke_user_rights(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    rights = Permission.objects.filter(content_type__app_label="accounts", codename__in=USER_RIGHTS)
    for group in Group.objects.filter(name="data_manager"):
        group.permissions.remove(*rights)


def grant_user_rights(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    rights = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=USER_RIGHTS[:2]
    )
    for group in Group.objects.filter(name="data_manager"):
        group.permissions.add(*rights)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_language_follows_the_browser_until_chosen"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_change_required",
            field=models.BooleanField(default=False, verbose_name="must change password"),
        ),
        migrations.RunPython(revoke_user_rights, grant_user_rights),
    ]
