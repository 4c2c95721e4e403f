"""Studies: the first study (the one every existing site and patient belongs to) is created, every
existing site is assigned to it, and data managers may view, add and change studies."""

import cohort.studies
import django.core.validators
import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


# Frozen here: the code may change later, the migration may not.
FIRST_STUDY_CODE = "VOUTE2023"
FIRST_STUDY_NAME = "Repeated ketamine for chronic refractory pain: one-year telephone follow-up"
FIRST_STUDY_DEFINITION = "voute2023"
STUDY_RIGHTS = ("view_study", "add_study", "change_study")


def create_first_study(apps, schema_editor):
    Study = apps.get_model("cohort", "Study")
    Site = apps.get_model("cohort", "Site")
    study, _ = Study.objects.get_or_create(
        code=FIRST_STUDY_CODE,
        defaults={"name": FIRST_STUDY_NAME, "definition": FIRST_STUDY_DEFINITION},
    )
    Site.objects.filter(study__isnull=True).update(study=study)


def grant_study_rights(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    rights = Permission.objects.filter(content_type__app_label="cohort", codename__in=STUDY_RIGHTS)
    for group in Group.objects.filter(name="data_manager"):
        group.permissions.add(*rights)


class Migration(migrations.Migration):

    dependencies = [
        ('cohort', '0008_history_keeps_author_name_and_long_reasons'),
        ('accounts', '0007_user_administration_by_data_managers'),
    ]

    operations = [
        migrations.CreateModel(
            name='Study',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=12, unique=True, validators=[django.core.validators.RegexValidator('^[A-Z0-9]{2,12}$', '2 to 12 capital letters or digits.')], verbose_name='code')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('definition', models.CharField(choices=[('voute2023', 'voute2023'), ('lan2022', 'lan2022')], help_text='The study definition file its visits, dosing and analysis come from.', max_length=40, verbose_name='definition')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'verbose_name': 'study',
                'verbose_name_plural': 'studies',
                'ordering': ['code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('definition__in', ('voute2023', 'lan2022'))), name='study_definition_known')],
            },
        ),
        migrations.AddField(
            model_name='site',
            name='study',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='sites', to='cohort.study', verbose_name='study'),
        ),
        migrations.RunPython(create_first_study, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='site',
            name='study',
            field=models.ForeignKey(default=cohort.studies.first_study_id, on_delete=django.db.models.deletion.PROTECT, related_name='sites', to='cohort.study', verbose_name='study'),
        ),
        migrations.RunPython(grant_study_rights, migrations.RunPython.noop),
    ]
