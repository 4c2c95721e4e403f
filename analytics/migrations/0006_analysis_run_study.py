"""Analysis runs per study: every existing run was the first study's analysis."""

import django.db.models.deletion
from django.db import migrations, models

FIRST_STUDY_CODE = "VOUTE2023"


def runs_to_first_study(apps, schema_editor):
    """Give every existing run to the first study (created by cohort 0009)."""
    AnalysisRun = apps.get_model("analytics", "AnalysisRun")
    Study = apps.get_model("cohort", "Study")
    if not AnalysisRun.objects.exists():
        return
    study, _created = Study.objects.get_or_create(
        code=FIRST_STUDY_CODE,
        defaults={
            "name": "Repeated ketamine for chronic refractory pain: one-year telephone follow-up",
            "definition": "voute2023",
        },
    )
    AnalysisRun.objects.filter(study__isnull=True).update(study=study)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_trajectory_membership_model"),
        ("cohort", "0009_studies"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="analysisrun", name="analysis_run_one_queued"),
        migrations.RemoveConstraint(model_name="analysisrun", name="analysis_run_one_running"),
        migrations.RemoveIndex(model_name="analysisrun", name="analysis_run_status"),
        migrations.AddField(
            model_name="analysisrun",
            name="study",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cohort.study",
                verbose_name="study",
            ),
        ),
        migrations.RunPython(runs_to_first_study, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="analysisrun",
            name="study",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cohort.study",
                verbose_name="study",
            ),
        ),
        migrations.AddConstraint(
            model_name="analysisrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "queued")),
                fields=("study", "status"),
                name="analysis_run_one_queued_per_study",
                violation_error_message="Another analysis run of this study is already waiting.",
            ),
        ),
        migrations.AddConstraint(
            model_name="analysisrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "running")),
                fields=("study", "status"),
                name="analysis_run_one_running_per_study",
                violation_error_message="Another analysis run of this study is already running.",
            ),
        ),
        migrations.AddIndex(
            model_name="analysisrun",
            index=models.Index(
                fields=["study", "status", "-finished_at"], name="analysis_run_study_status"
            ),
        ),
    ]
