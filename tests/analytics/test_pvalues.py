"""P values are written one way (JAMA style) by the report, the pages and the monitoring."""

import pytest
from django.template import Context, Template
from django.utils import translation

from analytics.stats.pvalues import format_p, p_phrase


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<.001"),
        (0.0004, "<.001"),
        (0.001, ".001"),
        (0.0042, ".004"),
        (0.00999, ".010"),
        (0.01, ".01"),
        (0.0449, ".04"),  # rounds to .04: two decimals are enough
        (0.046, ".046"),  # two decimals would read .05 although P < .05
        (0.0499, ".050"),
        (0.05, ".05"),
        (0.556, ".56"),
        (0.99, ".99"),
        (0.996, ">.99"),
        (1.0, ">.99"),
    ],
)
def test_jama_style(p, text):
    assert format_p(p) == text


@pytest.mark.parametrize("p", [None, float("nan"), float("inf"), -0.1, 1.5])
def test_unknown_or_impossible_p_has_no_text(p):
    assert format_p(p) is None


def test_phrases_put_the_sign_apart():
    assert p_phrase(0.0001) == "P < .001"
    assert p_phrase(0.023) == "P = .02"
    assert p_phrase(None) == "P = –"


def test_french_pages_write_the_decimal_comma_with_its_leading_zero():
    template = Template(
        "{% load analysis_tags %}{{ p|pvalue }} · {{ q|p_equals }} · {{ r|pvalue }}"
    )
    with translation.override("fr"):
        assert template.render(Context({"p": 0.023, "q": 0.0002, "r": None})) == (
            "0,02 · P &lt; 0,001 · –"
        )
    with translation.override("en"):
        assert template.render(Context({"p": 0.023, "q": 0.0002, "r": None})) == (
            ".02 · P &lt; .001 · –"
        )
