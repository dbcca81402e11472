import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Query(_message.Message):
    __slots__ = ("application", "query_id", "client_id", "user_query", "query_attributes", "object_id_field", "timestamp", "query_response_id", "query_response_hit_ids", "additional_properties")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_QUERY_FIELD_NUMBER: _ClassVar[int]
    QUERY_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_FIELD_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    QUERY_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_RESPONSE_HIT_IDS_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    application: str
    query_id: str
    client_id: str
    user_query: str
    query_attributes: _struct_pb2.Struct
    object_id_field: str
    timestamp: _timestamp_pb2.Timestamp
    query_response_id: str
    query_response_hit_ids: _containers.RepeatedScalarFieldContainer[str]
    additional_properties: _struct_pb2.Struct
    def __init__(self, application: _Optional[str] = ..., query_id: _Optional[str] = ..., client_id: _Optional[str] = ..., user_query: _Optional[str] = ..., query_attributes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., object_id_field: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., query_response_id: _Optional[str] = ..., query_response_hit_ids: _Optional[_Iterable[str]] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("application", "action_name", "query_id", "session_id", "client_id", "user_id", "timestamp", "message_type", "message", "user_query", "event_attributes", "event_id", "additional_properties")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USER_QUERY_FIELD_NUMBER: _ClassVar[int]
    EVENT_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    application: str
    action_name: str
    query_id: str
    session_id: str
    client_id: str
    user_id: str
    timestamp: _timestamp_pb2.Timestamp
    message_type: str
    message: str
    user_query: str
    event_attributes: EventAttributes
    event_id: str
    additional_properties: _struct_pb2.Struct
    def __init__(self, application: _Optional[str] = ..., action_name: _Optional[str] = ..., query_id: _Optional[str] = ..., session_id: _Optional[str] = ..., client_id: _Optional[str] = ..., user_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message_type: _Optional[str] = ..., message: _Optional[str] = ..., user_query: _Optional[str] = ..., event_attributes: _Optional[_Union[EventAttributes, _Mapping]] = ..., event_id: _Optional[str] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class EventAttributes(_message.Message):
    __slots__ = ("object", "position", "additional_properties")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    object: ObjectDetail
    position: Position
    additional_properties: _struct_pb2.Struct
    def __init__(self, object: _Optional[_Union[ObjectDetail, _Mapping]] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ObjectDetail(_message.Message):
    __slots__ = ("object_id", "object_id_type", "object_id_field", "internal_id", "additional_properties")
    OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_FIELD_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    object_id: _struct_pb2.Value
    object_id_type: str
    object_id_field: str
    internal_id: _struct_pb2.Value
    additional_properties: _struct_pb2.Struct
    def __init__(self, object_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., object_id_type: _Optional[str] = ..., object_id_field: _Optional[str] = ..., internal_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("ordinal", "xy", "additional_properties")
    ORDINAL_FIELD_NUMBER: _ClassVar[int]
    XY_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    ordinal: _wrappers_pb2.Int64Value
    xy: Coordinates
    additional_properties: _struct_pb2.Struct
    def __init__(self, ordinal: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., xy: _Optional[_Union[Coordinates, _Mapping]] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Coordinates(_message.Message):
    __slots__ = ("x", "y", "additional_properties")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    x: _wrappers_pb2.DoubleValue
    y: _wrappers_pb2.DoubleValue
    additional_properties: _struct_pb2.Struct
    def __init__(self, x: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., y: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., additional_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
