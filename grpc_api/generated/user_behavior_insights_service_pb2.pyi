import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from . import user_behavior_insights_pb2 as _user_behavior_insights_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrackEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _user_behavior_insights_pb2.Event
    def __init__(self, event: _Optional[_Union[_user_behavior_insights_pb2.Event, _Mapping]] = ...) -> None: ...

class TrackEventResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class TrackQueryRequest(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: _user_behavior_insights_pb2.Query
    def __init__(self, query: _Optional[_Union[_user_behavior_insights_pb2.Query, _Mapping]] = ...) -> None: ...

class TrackQueryResponse(_message.Message):
    __slots__ = ("query_id",)
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    def __init__(self, query_id: _Optional[str] = ...) -> None: ...

class TrackEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_user_behavior_insights_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_user_behavior_insights_pb2.Event, _Mapping]]] = ...) -> None: ...

class TrackEventsResponse(_message.Message):
    __slots__ = ("event_ids",)
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListQueriesRequest(_message.Message):
    __slots__ = ("page", "page_size", "application", "client_id", "user_query", "from_time", "to_time")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_QUERY_FIELD_NUMBER: _ClassVar[int]
    FROM_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    page: int
    page_size: int
    application: str
    client_id: str
    user_query: str
    from_time: _timestamp_pb2.Timestamp
    to_time: _timestamp_pb2.Timestamp
    def __init__(self, page: _Optional[int] = ..., page_size: _Optional[int] = ..., application: _Optional[str] = ..., client_id: _Optional[str] = ..., user_query: _Optional[str] = ..., from_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListQueriesResponse(_message.Message):
    __slots__ = ("items", "page", "page_size", "total_items", "total_pages")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_user_behavior_insights_pb2.Query]
    page: int
    page_size: int
    total_items: int
    total_pages: int
    def __init__(self, items: _Optional[_Iterable[_Union[_user_behavior_insights_pb2.Query, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total_items: _Optional[int] = ..., total_pages: _Optional[int] = ...) -> None: ...

class GetQueryRequest(_message.Message):
    __slots__ = ("query_id",)
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    def __init__(self, query_id: _Optional[str] = ...) -> None: ...

class GetQueryResponse(_message.Message):
    __slots__ = ("query", "events")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    query: _user_behavior_insights_pb2.Query
    events: _containers.RepeatedCompositeFieldContainer[_user_behavior_insights_pb2.Event]
    def __init__(self, query: _Optional[_Union[_user_behavior_insights_pb2.Query, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_user_behavior_insights_pb2.Event, _Mapping]]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("page", "page_size", "application", "action_name", "query_id", "session_id", "client_id", "user_id", "from_time", "to_time")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    page: int
    page_size: int
    application: str
    action_name: str
    query_id: str
    session_id: str
    client_id: str
    user_id: str
    from_time: _timestamp_pb2.Timestamp
    to_time: _timestamp_pb2.Timestamp
    def __init__(self, page: _Optional[int] = ..., page_size: _Optional[int] = ..., application: _Optional[str] = ..., action_name: _Optional[str] = ..., query_id: _Optional[str] = ..., session_id: _Optional[str] = ..., client_id: _Optional[str] = ..., user_id: _Optional[str] = ..., from_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("items", "page", "page_size", "total_items", "total_pages")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_user_behavior_insights_pb2.Event]
    page: int
    page_size: int
    total_items: int
    total_pages: int
    def __init__(self, items: _Optional[_Iterable[_Union[_user_behavior_insights_pb2.Event, _Mapping]]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total_items: _Optional[int] = ..., total_pages: _Optional[int] = ...) -> None: ...
