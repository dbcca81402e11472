"""Server reflection under both of its names: ``grpc.reflection.v1alpha`` and ``grpc.reflection.v1``.

grpcio-reflection implements v1alpha only, while grpcurl and newer tools ask v1 first. v1 is the same protocol
under a new package, message for message and field for field, so requests and answers have the same bytes: the
v1alpha servicer answers both. v1's descriptors are v1alpha's renamed, added to the default pool, so that
reflection describes itself under either name.
"""

import functools

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA_SERVICE_NAME = reflection.SERVICE_NAME
V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"


def enable_server_reflection(service_names, server: grpc.Server) -> None:
    """Serve reflection of ``service_names`` and of itself, as v1alpha and as v1."""
    _add_v1_descriptors()
    servicer = reflection.ReflectionServicer((*service_names, V1ALPHA_SERVICE_NAME, V1_SERVICE_NAME))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1_handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(V1_SERVICE_NAME, {"ServerReflectionInfo": v1_handler}),)
    )


@functools.cache
def _add_v1_descriptors() -> None:
    file = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(file)
    old_prefix, new_prefix = f".{file.package}.", ".grpc.reflection.v1."
    file.name, file.package = "grpc/reflection/v1/reflection.proto", "grpc.reflection.v1"
    file.ClearField("options")  # v1alpha's language packages

    def renamed(type_name: str) -> str:
        return new_prefix + type_name.removeprefix(old_prefix)

    for message in file.message_type:
        for field in message.field:
            if field.type_name.startswith(old_prefix):  # a scalar field must keep no type name at all
                field.type_name = renamed(field.type_name)
    for method in file.service[0].method:
        method.input_type, method.output_type = renamed(method.input_type), renamed(method.output_type)
    descriptor_pool.Default().Add(file)
