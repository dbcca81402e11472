"""The gRPC API's .proto files are downloadable over HTTP, as the gRPC document says: an index at
/api/v1/protos/ and each file as text/plain, without a token. Only the files of grpc_api/protos/ are served."""

from pathlib import Path

import pytest
from grpc_tools import protoc

from project.paths import PROTOS_DIR

SHIPPED = sorted(path.name for path in PROTOS_DIR.glob("*.proto"))


def test_the_index_lists_every_proto_file_with_its_address(anonymous_api, live_server):
    response = anonymous_api.get("/api/v1/protos/")
    assert response.status_code == 200
    assert response.json() == {
        "protos": [{"name": name, "url": f"{live_server.url}/api/v1/protos/{name}"} for name in SHIPPED]
    }
    assert SHIPPED == ["user_behavior_insights.proto", "user_behavior_insights_service.proto"]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_file_downloads_as_text_unchanged(anonymous_api, name):
    response = anonymous_api.get(f"/api/v1/protos/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == (PROTOS_DIR / name).read_bytes()


def test_the_downloaded_files_compile_into_a_client(anonymous_api, tmp_path):
    """What a user does with them: download through the index, then protoc, with nothing else of this repository."""
    for entry in anonymous_api.get("/api/v1/protos/").json()["protos"]:
        (tmp_path / entry["name"]).write_bytes(anonymous_api.session.get(entry["url"], timeout=30).content)
    well_known_types = Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        ["protoc", f"-I{tmp_path}", f"-I{well_known_types}", f"--python_out={tmp_path}", f"--grpc_python_out={tmp_path}"]
        + [str(tmp_path / name) for name in SHIPPED]
    )
    assert status == 0
    assert (tmp_path / "user_behavior_insights_service_pb2_grpc.py").read_text().count("def TrackEvent") >= 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/protos/../../project/settings.py",
        "/api/v1/protos/..%2F..%2Fproject%2Fsettings.py",
        "/api/v1/protos/%2e%2e%2f%2e%2e%2fmanage.py",
        "/api/v1/protos/..%5C..%5Cmanage.py",
        "/api/v1/protos/codegen.py",
        "/api/v1/protos/user_behavior_insights.proto%00",
        "/api/v1/protos/USER_BEHAVIOR_INSIGHTS.PROTO",
        "/api/v1/protos/google/protobuf/timestamp.proto",
    ],
)
def test_nothing_but_those_files_is_served(anonymous_api, path):
    response = anonymous_api.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "SECRET_KEY" not in response.text and "import" not in response.text


def test_the_files_are_only_read(anonymous_api):
    response = anonymous_api.post(f"/api/v1/protos/{SHIPPED[0]}", data="x")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"


def test_the_openapi_document_links_the_download(anonymous_api):
    assert "/api/v1/protos/" in anonymous_api.get("/api/v1/openapi.json").json()["info"]["description"]
