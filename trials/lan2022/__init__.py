"""Lan et al. 2022 (Front Psychiatry 13:793677): ketamine in depression with or without pain."""

from trials.lan2022.synthetic import (
    ADVERSE_RATES,
    DOMAINS,
    INFUSION_DAYS,
    MADRS_DAYS,
    PAIN_GROUPS,
    Trial,
    Truth,
    generate,
)

__all__ = [
    "ADVERSE_RATES",
    "DOMAINS",
    "INFUSION_DAYS",
    "MADRS_DAYS",
    "PAIN_GROUPS",
    "Trial",
    "Truth",
    "generate",
]
