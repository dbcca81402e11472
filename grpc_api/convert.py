"""Protobuf messages to and from the plain dicts the insights services take and give.

The dicts are exactly what a REST JSON body holds, so both protocols feed one validation: ``Timestamp`` becomes an
RFC 3339 string, ``Struct``/``Value`` plain JSON values, wrappers their number, and an unset field is absent. The
``additional_properties`` Struct of a message holds the fields UBI does not name, merged into the same dict.

``additional_properties`` may also carry a named field whose value its typed field cannot hold (an ``ordinal`` of
``"3"``): the services then judge it as they judge the same JSON, and a stored value of that kind is read back the
same way. Conversion only parses shape. It rejects only what a JSON body could not say either: a field given both
ways, and a ``Timestamp`` outside years 1 to 9999.
"""

import datetime
from collections.abc import Callable

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from insights.validation import parse_timestamp
from project.errors import InvalidInput

ADDITIONAL_PROPERTIES = "additional_properties"
TIMESTAMP = "google.protobuf.Timestamp"
JSON_VALUES = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
WRAPPERS = {
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
}
# Doubles beyond this cannot all be told apart from their neighbours, so they stay floats.
_LARGEST_EXACT_INTEGER = 2**53
_EPOCH = datetime.datetime(1970, 1, 1)
_NANOS_PER_SECOND = 1_000_000_000


def message_to_dict(message: Message, path: str = "") -> dict:
    """The JSON document ``message`` stands for. ``path`` prefixes the field names of any ``InvalidInput``."""
    fields = _FIELDS.get(type(message)) or _fields(message)
    document = {}
    # ListFields gives the set fields only (a scalar without presence counts as set when not its default), in C.
    for field, value in message.ListFields():
        name, convert = fields[field]
        document[name] = value if convert is None else convert(value, path, name)
    additional = document.pop(ADDITIONAL_PROPERTIES, None)
    if additional is not None:
        clashes = sorted(name for name in additional if name in document)
        if clashes:
            raise InvalidInput({_join(path, name): [f"Given twice: as a field and in {ADDITIONAL_PROPERTIES}."] for name in clashes})
        document.update(additional)
    return document


def fill_message(message: Message, document: dict) -> Message:
    """Set ``message`` from a JSON document as the services give it; return ``message``.

    Names the message lacks go to its ``additional_properties``, as does a stored value its typed field cannot hold,
    so that what was tracked is what is read.
    """
    fields = message.DESCRIPTOR.fields_by_name
    additional = {}
    for name, value in document.items():
        field = fields.get(name)
        if value is None:
            continue
        if field is None or name == ADDITIONAL_PROPERTIES:
            additional[name] = value
            continue
        try:
            _assign(message, field, value)
        except (TypeError, ValueError, json_format.ParseError):
            message.ClearField(name)
            additional[name] = value
    if additional and ADDITIONAL_PROPERTIES in fields:
        getattr(message, ADDITIONAL_PROPERTIES).update(additional)
    return message


def _fields(message: Message) -> dict[FieldDescriptor, tuple[str, Callable | None]]:
    """Each field of ``message``'s type: its name and the function ``(value, path, name)`` that turns its value into
    JSON, or None when the value already is JSON (a string, a number). Worked out once per message class, kept in
    ``_FIELDS``: a stream converts the same fields a thousand times over, and a descriptor's attributes are slow to
    read. The path is joined only where it is needed: a nested message, an error."""
    fields = {field: (field.name, _converter(field)) for field in message.DESCRIPTOR.fields}
    _FIELDS[type(message)] = fields
    return fields


def _converter(field: FieldDescriptor) -> Callable | None:
    if field.message_type is None:
        return (lambda value, path, name: list(value)) if field.is_repeated else None
    convert = _MESSAGE_CONVERTERS.get(field.message_type.full_name, _nested)
    if not field.is_repeated:
        return convert
    return lambda value, path, name: [convert(item, f"{_join(path, name)}[{i}]", "") for i, item in enumerate(value)]


def _timestamp(value: Message, path: str, name: str) -> str:
    """``Timestamp.ToJsonString``'s text (3, 6 or 9 digits of fraction as needed), at a fifth of its cost."""
    nanos = value.nanos
    try:
        if not 0 <= nanos < _NANOS_PER_SECOND:
            raise ValueError
        text = (_EPOCH + datetime.timedelta(seconds=value.seconds)).isoformat()
    except (OverflowError, ValueError):
        raise InvalidInput({_join(path, name): ["The date-time is outside the years 1 to 9999 in UTC."]}) from None
    if not nanos:
        return text + "Z"
    if not nanos % 1_000_000:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if not nanos % 1_000:
        return f"{text}.{nanos // 1_000:06d}Z"
    return f"{text}.{nanos:09d}Z"


def _wrapped(value: Message, path: str, name: str):
    return _json_number(value.value) if isinstance(value.value, float) else value.value


def _nested(value: Message, path: str, name: str) -> dict:
    return message_to_dict(value, _join(path, name))


def _struct(message: Message) -> dict:
    return {key: _value(item) for key, item in message.fields.items()}


def _list(message: Message) -> list:
    return [_value(item) for item in message.values]


def _value(message: Message):
    """A ``Value`` as plain JSON: the type UBI's own fields hold (``object_id``) and Structs are made of."""
    which = message.WhichOneof("kind")
    if which == "string_value":
        return message.string_value
    if which == "number_value":
        return _json_number(message.number_value)
    if which == "struct_value":
        return _struct(message.struct_value)
    if which == "list_value":
        return _list(message.list_value)
    return None if which in (None, "null_value") else getattr(message, which)


def _json_number(number: float) -> int | float:
    """A double as JSON means it: a whole number is an int (``2``, not ``2.0``), as a JSON body would give it."""
    return int(number) if number.is_integer() and abs(number) <= _LARGEST_EXACT_INTEGER else number


# The well-known message types that stand for a JSON value; any other message is a nested object (``_nested``).
_MESSAGE_CONVERTERS = {
    TIMESTAMP: _timestamp,
    "google.protobuf.Value": lambda value, path, name: _value(value),
    "google.protobuf.Struct": lambda value, path, name: _struct(value),
    "google.protobuf.ListValue": lambda value, path, name: _list(value),
    **dict.fromkeys(WRAPPERS, _wrapped),
}
_FIELDS: dict[type, dict] = {}  # message class: _fields


def _assign(message: Message, field: FieldDescriptor, value) -> None:
    if field.is_repeated:
        if field.message_type is None:
            getattr(message, field.name).extend(value)
        else:
            for item in value:
                _assign_message(getattr(message, field.name).add(), item)
    elif field.message_type is None:
        setattr(message, field.name, value)
    else:
        _assign_message(getattr(message, field.name), value)


def _assign_message(target: Message, value) -> None:
    target.SetInParent()  # an empty object ({} as a position) is present, not absent
    type_name = target.DESCRIPTOR.full_name
    if type_name == TIMESTAMP:
        target.FromDatetime(value if isinstance(value, datetime.datetime) else parse_timestamp(value))
    elif type_name in JSON_VALUES:
        json_format.ParseDict(value, target)
    elif type_name in WRAPPERS:
        target.value = value
    elif isinstance(value, dict):
        fill_message(target, value)
    else:
        raise TypeError(f"{type_name} needs an object, not {type(value).__name__}")



def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name
