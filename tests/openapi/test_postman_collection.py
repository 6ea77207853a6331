"""examples/postman's collection is what its generator makes of the served document.

newman runs it against gunicorn in tests/e2e/test_postman.py.
"""

import copy
import importlib.util

import pytest

from tests.servers import ROOT
from tests.urls import LOGIN, ME, OPENAPI, REFRESH, REGISTER

GENERATOR = ROOT / "examples" / "postman" / "generate.py"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("postman_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.get_json()


def test_committed_collection_is_up_to_date(generator, document):
    committed = generator.COLLECTION.read_text(encoding="utf-8")
    assert generator.render(generator.build_collection(document)) == committed, (
        "examples/postman is stale: run .venv/bin/python examples/postman/generate.py"
    )


def test_requests_take_path_method_and_body_from_the_document(generator, document):
    collection = generator.build_collection(document)
    register = collection["item"][0]["item"][0]["request"]
    assert register["method"] == "POST"
    assert register["url"]["raw"] == "{{baseUrl}}/api/v1/auth/register"
    assert {"key": "X-Auth-Mode", "value": "bearer"} in register["header"]
    assert '"email": "{{email}}"' in register["body"]["raw"]

    moved = copy.deepcopy(document)
    paths = moved["paths"]
    paths["/api/v1/auth/signup"] = paths.pop(REGISTER)
    register = generator.build_collection(moved)["item"][0]["item"][0]["request"]
    assert register["url"]["raw"] == "{{baseUrl}}/api/v1/auth/signup"


def operation(paths, path, method="post"):
    return paths[path][method]


def drop_operation(paths):
    paths.pop(ME)


def drop_status(paths):
    operation(paths, REGISTER)["responses"].pop("201")


def drop_body_field(paths):
    content = operation(paths, LOGIN)["requestBody"]["content"]
    content["application/json"]["examples"]["login"]["value"].pop("password")


def drop_security(paths):
    operation(paths, REFRESH)["security"] = [{"refreshToken": []}]


def drop_header(paths):
    operation(paths, REGISTER)["parameters"] = []


@pytest.mark.parametrize(
    "change",
    [drop_operation, drop_status, drop_body_field, drop_security, drop_header],
)
def test_a_step_the_document_does_not_declare_is_an_error(generator, document, change):
    changed = copy.deepcopy(document)
    change(changed["paths"])
    with pytest.raises(generator.DocumentMismatch):
        generator.build_collection(changed)
