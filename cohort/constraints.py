"""A row's check constraints validated in one statement, not one statement (and a savepoint)
each.

Django's ``Model.validate_constraints`` asks the database about each ``CheckConstraint`` in its
own ``SELECT`` inside its own savepoint: thirteen for a patient, some forty statements before
every save. ``constraints_validate`` asks the same questions as columns of one ``SELECT`` (each
one true exactly when Django's ``WHERE`` would find its row) and raises the very errors, in
the same order, that Django's loop raises; the other constraints (unique ones) are validated by
Django as before. Should the combined statement fail in the database, Django's own loop runs.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE


def _passed(
    model: type[models.Model],
    instance: models.Model,
    checks: list[models.CheckConstraint],
    exclude: Collection[str] | None,
    using: str,
) -> dict[int, bool] | None:
    """Return, by position in ``checks``, whether each check holds (the ones that cannot be
    checked without an excluded field are left out); None if the database refused."""
    against = instance._get_field_expression_map(meta=model._meta, exclude=exclude)
    query = Query(None)
    for name, value in against.items():
        if not hasattr(value, "resolve_expression"):
            value = Value(value)
        query.add_annotation(value, name, select=False)
    connection = connections[using]
    asked = []
    for number, check in enumerate(checks):
        condition = Q(check.condition)
        if connection.features.supports_comparing_boolean_expr:
            condition = Q(Coalesce(condition, True, output_field=BooleanField()))
        column = Case(When(condition, then=Value(True)), default=Value(False))
        try:
            query.add_annotation(column, f"_check_{number}")
        except FieldError:
            continue  # As Django: a check on an excluded field is not made.
        asked.append(number)
    if not asked:
        return {}
    compiler = query.get_compiler(using=using)
    try:
        with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
            row = compiler.execute_sql(SINGLE)
    except DatabaseError:
        return None
    return {number: bool(value) for number, value in zip(asked, row, strict=True)}


def constraints_validate(instance: models.Model, exclude: Collection[str] | None = None) -> None:
    """Validate every constraint of ``instance`` as ``Model.validate_constraints`` does, with
    its check constraints asked in one statement per model class."""
    using = router.db_for_write(type(instance), instance=instance)
    errors: dict[str, Any] = {}
    for model_class, constraints in instance.get_constraints():
        checks = [c for c in constraints if type(c) is models.CheckConstraint]
        positions = {id(check): number for number, check in enumerate(checks)}
        passed = _passed(model_class, instance, checks, exclude, using) if checks else {}
        for constraint in constraints:
            try:
                if type(constraint) is models.CheckConstraint and passed is not None:
                    if not passed.get(positions[id(constraint)], True):
                        raise ValidationError(
                            constraint.get_violation_error_message(),
                            code=constraint.violation_error_code,
                        )
                else:
                    constraint.validate(model_class, instance, exclude=exclude, using=using)
            except ValidationError as e:
                if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                    errors.setdefault(constraint.fields[0], []).append(e)
                else:
                    errors = e.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
