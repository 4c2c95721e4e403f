"""A form renderer that writes the common widgets in Python instead of one template each.

The call page holds about three hundred inputs (radio buttons of the questionnaires, adverse
effects, treatments); Django renders each through its own small template, which was most of
the page's server time. ``WidgetRenderer`` writes the HTML of Django's stock templates
(``django/forms/widgets/``: inputs, checkboxes, radio and checkbox options, selects and their
options, text areas) directly, escaping as the templates do, and hands any other template to
Django. ``tests/test_form_renderer.py`` checks that both give the same HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

_WIDGETS = "django/forms/widgets/"
_INPUTS = (
    *("text", "checkbox", "color", "date", "datetime", "email", "hidden"),
    *("number", "password", "search", "tel", "time", "url"),
)


def _text(value: Any) -> str:
    """Write a value as the ``stringformat:'s'`` filter then autoescaping would."""
    return str(conditional_escape(value if isinstance(value, SafeString) else str(value)))


def _attrs(attrs: Mapping[str, Any]) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {name}" if value is True else f' {name}="{_text(value)}"')
    return "".join(parts)


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    kind, name = _text(widget["type"]), _text(widget["name"])
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def _input_option(widget: Mapping[str, Any]) -> str:
    if not widget.get("wrap_label"):
        return _input(widget)
    target = widget["attrs"].get("id")
    label_for = f' for="{_text(target)}"' if target else ""
    # The input template ends with a new line, kept inside the label.
    return f"<label{label_for}>{_input(widget)}\n {_text(widget['label'])}</label>"


def _select_option(widget: Mapping[str, Any]) -> str:
    return (
        f'<option value="{_text(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{_text(widget['label'])}</option>"
    )


def _select(widget: Mapping[str, Any]) -> str:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            # Django's option template ends with a new line, kept inside the select.
            parts.append("\n  " + _render_option(option) + "\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>"
    )


_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    **{f"{_WIDGETS}{name}.html": _input for name in _INPUTS},
    f"{_WIDGETS}input_option.html": _input_option,
    f"{_WIDGETS}radio_option.html": _input_option,
    f"{_WIDGETS}checkbox_option.html": _input_option,
    f"{_WIDGETS}select_option.html": _select_option,
    f"{_WIDGETS}select.html": _select,
    f"{_WIDGETS}textarea.html": _textarea,
}


def _render_option(option: Mapping[str, Any]) -> str:
    writer = _WRITERS.get(option["template_name"])
    if writer is None:
        raise LookupError(option["template_name"])
    return writer(option)


class WidgetRenderer(DjangoTemplates):
    """Write the stock widgets in Python; render every other template with Django's engine."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        writer = _WRITERS.get(template_name)
        widget = context.get("widget")
        if writer is not None and widget is not None:
            try:
                # Every value was escaped by the writer.
                return mark_safe(writer(widget))
            except LookupError:
                pass  # an option of a template we do not write: let Django render it all
        return super().render(template_name, context, request)
