"""Analysis runs per study, step 2: every run stored before was the first study's analysis.

Its own migration (its own transaction): PostgreSQL refuses to alter a table whose rows were
just updated under a deferred foreign key in the same transaction.
"""

from django.db import migrations

FIRST_STUDY_CODE = "VOUTE2023"
FIRST_STUDY_NAME = "Repeated ketamine for chronic refractory pain: one-year telephone follow-up"


def runs_to_first_study(apps, schema_editor):
    """Give every existing run to the first study (created by cohort 0009)."""
    AnalysisRun = apps.get_model("analytics", "AnalysisRun")
    Study = apps.get_model("cohort", "Study")
    if not AnalysisRun.objects.filter(study__isnull=True).exists():
        return
    study, _created = Study.objects.get_or_create(
        code=FIRST_STUDY_CODE, defaults={"name": FIRST_STUDY_NAME, "definition": "voute2023"}
    )
    AnalysisRun.objects.filter(study__isnull=True).update(study=study)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_analysis_run_study")]

    operations = [migrations.RunPython(runs_to_first_study, migrations.RunPython.noop)]
