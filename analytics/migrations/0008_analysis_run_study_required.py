"""Analysis runs per study, step 3: the study is required; one waiting and one running run per
study."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_analysis_runs_to_first_study")]

    operations = [
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
