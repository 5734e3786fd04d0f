"""JSON into typed, frozen dataclasses: every field checked against its type
hint, so a damaged file is refused with where it went wrong, never half-read.

Used for the episode record and the other JSON files the show keeps about its
episodes (proof reports)."""
from __future__ import annotations

import datetime
import types
import typing
from dataclasses import MISSING, fields, is_dataclass


class RecordError(ValueError):
    """A record that cannot be read: not JSON, a missing field, a wrong type."""


class RecordMissing(RecordError):
    """The episode has no record at all (never built)."""


def no_constant(name: str):
    """For json.loads: NaN and Infinity are not numbers a record holds."""
    raise ValueError(f"{name} is not a number a record holds")


def typed(cls: type, data: object, where: str):
    """``data`` as an instance of the dataclass ``cls``, every field checked against its type."""
    if not isinstance(data, dict):
        raise RecordError(f"{where} is not an object")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in fields(cls):
        if field.name in data:
            values[field.name] = value_of(hints[field.name], data[field.name], f"{where}.{field.name}")
        elif field.default is MISSING:
            raise RecordError(f"{where}.{field.name} is missing")
    return cls(**values)


def value_of(hint, value: object, where: str):
    """``value`` checked against the type ``hint`` (and turned into it, for dataclasses and times)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return value_of(next(arg for arg in args if arg is not type(None)), value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise RecordError(f"{where} is not a list")
        return tuple(value_of(args[0], item, f"{where}[{number}]") for number, item in enumerate(value))
    if is_dataclass(hint):
        return typed(hint, value, where)
    if hint is datetime.datetime:
        try:
            moment = datetime.datetime.fromisoformat(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise RecordError(f"{where} is not an ISO 8601 time: {value!r}") from None
        if moment.tzinfo is None:
            raise RecordError(f"{where} has no time zone: {value!r}")
        return moment
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise RecordError(f"{where} should be {hint.__name__}, not {type(value).__name__}")
    return value
