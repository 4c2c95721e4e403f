"""Analysis runs per study, step 1: the study column, empty for the runs stored before it."""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
