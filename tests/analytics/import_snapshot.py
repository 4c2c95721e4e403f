"""What an import leaves in the database, written out so that two imports can be compared.

Every row of the clinical apps' tables and their history, each foreign key replaced by the
row it points at (so the numbering of the rows does not matter), the times a save stamps
(``created_at``, ``updated_at``, ``history_date``) left out. History rows keep their order.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

APPS = ("cohort", "followup", "quality", "safety")
STAMPS = {"created_at", "updated_at", "history_date", "history_id"}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time | Decimal):
        return str(value)
    return value


class _Snapshot:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, Any], Any] = {}

    def key(self, model: type[models.Model], pk: Any) -> Any:
        """The row ``pk`` of ``model``, as its own fields (its foreign keys followed)."""
        if pk is None:
            return None
        label = model._meta.label
        if (label, pk) not in self.keys:
            row = model._base_manager.filter(pk=pk).first()
            self.keys[label, pk] = None if row is None else self.row(row, history=False)
        return self.keys[label, pk]

    def row(self, row: models.Model, *, history: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in row._meta.concrete_fields:
            if field.primary_key or field.name in STAMPS:
                continue
            if field.is_relation:
                target = field.related_model
                if target._meta.app_label not in APPS:
                    values[field.name] = getattr(row, field.attname)
                    continue
                values[field.name] = self.key(target, getattr(row, field.attname))
            elif history and field.name == "id":
                values["id"] = self.key(row.instance_type, row.id)
            else:
                values[field.name] = _plain(getattr(row, field.attname))
        return values


def snapshot() -> dict[str, list[str]]:
    """Every table of the clinical apps: its rows (sorted), each as JSON text."""
    found: dict[str, list[str]] = {}
    keep = _Snapshot()
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            history = hasattr(model, "instance_type")
            rows = model._base_manager.order_by("pk")
            texts = [
                json.dumps(keep.row(row, history=history), sort_keys=True, default=str)
                for row in rows
            ]
            if history:
                # The order of the changes of each row matters, not how rows interleave.
                by_row: dict[str, list[str]] = {}
                for row, text in zip(rows, texts, strict=True):
                    by_row.setdefault(
                        json.dumps(
                            keep.key(model.instance_type, row.id), sort_keys=True, default=str
                        ),
                        [],
                    ).append(text)
                texts = [json.dumps(changes) for _, changes in sorted(by_row.items())]
            if texts:
                found[model._meta.label] = sorted(texts)
    return found
