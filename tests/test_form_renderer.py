"""The Python widget writer gives the HTML of Django's own widget templates."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import lazy
from django.utils.safestring import mark_safe

from config.form_renderer import WidgetRenderer
from followup.forms import CallEntryForm

TRICKY = 'Tom & "Jerry" <b>\'s</b>'
lazy_text = lazy(lambda: "Lazy <label>", str)


class Everything(forms.Form):
    text = forms.CharField(initial=TRICKY, widget=forms.TextInput(attrs={"data-x": TRICKY}))
    number = forms.IntegerField(
        initial=5, widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"})
    )
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    hidden = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    secret = forms.CharField(widget=forms.PasswordInput)
    email = forms.EmailField(required=False)
    ticked = forms.BooleanField(initial=True, required=False)
    unticked = forms.BooleanField(required=False)
    choice = forms.ChoiceField(
        choices=[("", "—"), ("a", TRICKY), ("b", lazy_text()), ("c", mark_safe("<i>safe</i>"))],
        initial="b",
    )
    grouped = forms.ChoiceField(
        choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Zed")], initial="y"
    )
    several = forms.MultipleChoiceField(
        choices=[("1", "One"), ("2", "Two"), ("3", "Three")], initial=["1", "3"]
    )
    radio = forms.ChoiceField(
        choices=[("0", "zero"), ("1", TRICKY)], widget=forms.RadioSelect, initial="1"
    )
    boxes = forms.MultipleChoiceField(
        choices=[("p", "P"), ("q", "Q")], widget=forms.CheckboxSelectMultiple, initial=["q"]
    )
    notes = forms.CharField(widget=forms.Textarea, initial=TRICKY)
    empty_notes = forms.CharField(widget=forms.Textarea, required=False)
    when = forms.SplitDateTimeField(required=False)


def _everything_rendered(form_class, *args, **kwargs):
    """Render every field, and each option of the choice fields, with both renderers."""
    out = {}
    for name, renderer in (("django", DjangoTemplates()), ("python", WidgetRenderer())):
        form = form_class(*args, renderer=renderer, **kwargs)
        pieces = []
        for field in form:
            pieces.append(str(field))
            pieces.extend(str(sub.tag()) for sub in field.subwidgets)
            pieces.extend(str(sub) for sub in field.subwidgets)
        out[name] = pieces
    return out["django"], out["python"]


def test_every_stock_widget_is_written_as_the_django_templates_write_it():
    django_html, python_html = _everything_rendered(Everything)
    assert len(python_html) > 40
    for expected, written in zip(django_html, python_html, strict=True):
        assert written == expected


def test_bound_values_and_errors_are_written_the_same():
    data = {"text": "<script>", "number": "11", "choice": "a", "several": ["2"], "radio": "0"}
    django_html, python_html = _everything_rendered(Everything, data)
    assert python_html == django_html
    assert any("&lt;script&gt;" in piece for piece in python_html)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_call_form_renders_the_same_with_both(language):
    django_html, python_html = _everything_rendered(CallEntryForm, language=language)
    assert python_html == django_html
    posted = {"outcome": "reached", "hads_1": "2", "sf12_gh1": "9", "ae_nausea": "on"}
    django_html, python_html = _everything_rendered(CallEntryForm, posted, language=language)
    assert python_html == django_html


def test_the_project_renders_its_forms_with_the_python_writer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), WidgetRenderer)
