"""Load a generated demo cohort into the database, replacing the previous demo study.

The rows go in set-based (COPY on PostgreSQL, executemany on SQLite) with ids allocated up
front, so that 30,000 patients load in seconds. Each table is first built as a pandas frame whose
columns are the database columns, holding the values as the backend stores them. Every derived
value is computed by the same code as the app: doses by ``cohort.models.dose_in_mg``, schedule
windows by ``followup.schedule``, scores by ``followup.instruments``. Seeded rows get no history
rows of their own: their history starts with the first edit made in the app. Only demo sites
(``Site.is_demo``) and what hangs off them are touched.

``load`` runs the load; ``patients``, ``calls``, ``responses`` and ``events`` build the rows of
their tables; ``frames`` holds the column conversions and parent ids; ``writer`` the COPY;
``purge`` removes the previous demo study.
"""

from demo.loader.load import LoadReport, Progress, demo_load
from demo.loader.purge import CLINICAL_MODELS, demo_purge

__all__ = ["CLINICAL_MODELS", "LoadReport", "Progress", "demo_load", "demo_purge"]
