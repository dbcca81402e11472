"""The committed generated code is what ``python -m grpc_api.codegen`` makes of the committed protos."""

from grpc_api import codegen


def test_the_generated_code_is_up_to_date(tmp_path):
    fresh = {path.name: path.read_text() for path in codegen.generate(tmp_path)}
    committed = {path.name: path.read_text() for path in codegen.GENERATED_DIR.iterdir() if path.is_file()}
    assert committed == fresh, "Stale: run `python -m grpc_api.codegen` and commit grpc_api/generated/."
