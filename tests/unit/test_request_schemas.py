"""Every number and yes/no a client sends is read strictly: JSON `true` is not the integer 1,
and `1` or `"yes"` is not `true` (pydantic's lax mode would accept both)."""

import importlib
import pkgutil
import types
import typing

import pytest
from pydantic import BaseModel, ValidationError

import prepskul.api


def _request_models() -> list[type[BaseModel]]:
    """The API's request bodies: every model of prepskul.api that refuses unknown fields."""
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(prepskul.api.__path__):
        module = importlib.import_module(f"prepskul.api.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseModel)
                    and value.__module__ == module.__name__
                    and value.model_config.get("extra") == "forbid"):
                found[f"{module.__name__}.{value.__name__}"] = value
    return [found[name] for name in sorted(found)]


def _kinds(annotation: object) -> set[type]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set().union(*(_kinds(a) for a in typing.get_args(annotation)))
    if typing.get_origin(annotation) is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    return {annotation} if annotation in (int, bool) else set()


FIELDS = [(model, name, kind) for model in _request_models()
          for name, field in model.model_fields.items() for kind in _kinds(field.annotation)]
LAX = {int: "true", bool: '"yes"'}


def test_the_request_bodies_with_numbers_and_flags_are_all_found() -> None:
    names = {f"{model.__name__}.{name}" for model, name, _ in FIELDS}
    assert {"BookingIn.minutes", "WindowIO.weekday", "AvailabilityIO.buffer_minutes",
            "WithdrawalIn.amount_xaf", "ReviewIn.rating", "ReportIn.learner_present",
            "ExceptionIO.available"} <= names


@pytest.mark.parametrize(("model", "name", "kind"), FIELDS,
                         ids=[f"{m.__name__}.{n}" for m, n, _ in FIELDS])
def test_a_field_refuses_a_value_of_another_json_type(
    model: type[BaseModel], name: str, kind: type
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(f'{{"{name}": {LAX[kind]}}}')
    problems = {e["type"] for e in refused.value.errors() if e["loc"][:1] == (name,)}
    assert ("int_type" if kind is int else "bool_type") in problems, problems
