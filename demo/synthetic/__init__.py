"""Synthetic demo cohort with known truth, calibrated on Voute et al. 2023 (no Django).

``generate(n_patients, seed)`` returns a ``DemoCohort`` of pandas DataFrames (sites, patients,
administrations, calls, attempts, adverse_events, treatments) and the ``truth`` they were drawn
from. See docs/demo-cohort.md for the truth model and demo/synthetic/params.py for every parameter.
"""

from demo.synthetic.generator import DemoCohort, generate

__all__ = ["DemoCohort", "generate"]
