"""docs/API.md and the generated OpenAPI document describe the same API.

docs/API.md names each endpoint in a heading (`### POST /api/v1/auth/login`) with
`**Success:**` and `**Errors:**` lines, and every error code in the table of its
"Errors" section; the document is built from the routes (GET /api/v1/openapi.json).
"""

import re

import pytest

from tests.docs.support import BACKTICKED, DOCS, read, sections, table_rows
from tests.urls import OPENAPI

API_MD = DOCS / "API.md"
METHODS = {"get", "post", "put", "patch", "delete"}
ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$")
STATUS_CODE = re.compile(r"^(\d{3}) ([a-z_]+)$")


@pytest.fixture
def document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.get_json()


def operations(document):
    """{(METHOD, path): operation} of the document."""
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def error_pairs(operation):
    """{(status, code)} an operation's error responses list."""
    pairs = set()
    for status, response in operation["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        for part in (schema or {}).get("allOf", []):
            for code in part.get("properties", {}).get("code", {}).get("enum", []):
                pairs.add((int(status), code))
    return pairs


def document_codes(document):
    """Every error code of the document: the Error schema's and the operations'."""
    error = document["components"]["schemas"]["Error"]
    codes = set(error["properties"]["code"]["enum"])
    for operation in operations(document).values():
        codes |= {code for _, code in error_pairs(operation)}
    return codes


def contract_endpoints():
    """{(METHOD, path): section text} of docs/API.md's endpoint headings."""
    endpoints = {}
    for heading, body in sections(read(API_MD), 3).items():
        match = ENDPOINT.match(heading)
        if match:
            endpoints[(match.group(1), match.group(2))] = body
    return endpoints


def contract_error_table():
    """{(status, code)} of the table in docs/API.md's "Errors" section."""
    pairs = set()
    for cells in table_rows(sections(read(API_MD), 2)["Errors"]):
        for code in BACKTICKED.findall(cells[1]):
            pairs.add((int(cells[0]), code))
    return pairs


def field_line(body, name):
    """The text of a `- **Name:** ...` line (continuation lines included)."""
    match = re.search(
        rf"^- \*\*{name}:\*\* (.*?)(?=^- |^\S|\Z)", body, re.MULTILINE | re.DOTALL
    )
    return match.group(1) if match else None


def test_every_operation_is_an_endpoint_heading_and_back(document):
    documented = set(operations(document))
    written = set(contract_endpoints())
    assert documented - written == set(), "in the OpenAPI document, not in API.md"
    assert written - documented == set(), "in API.md, not in the OpenAPI document"


def test_error_codes_are_the_same_in_both(document):
    table = contract_error_table()
    assert {code for _, code in table} == document_codes(document)


def test_every_status_and_code_of_an_operation_is_in_the_error_table(document):
    table = contract_error_table()
    for key, operation in operations(document).items():
        assert error_pairs(operation) <= table, key


def test_each_endpoint_states_the_documents_success_status(document):
    for key, body in contract_endpoints().items():
        line = field_line(body, "Success")
        assert line, f"{key}: no **Success:** line"
        status = BACKTICKED.search(line).group(1)
        responses = operations(document)[key]["responses"]
        # 2xx, or the 302 of the provider sign-in's redirects.
        success = sorted(code for code in responses if code.startswith(("2", "3")))
        assert [status] == success, key


def test_endpoint_errors_are_the_documents_errors_of_that_operation(document):
    for key, body in contract_endpoints().items():
        line = field_line(body, "Errors")
        if line is None:
            continue
        written = {
            (int(m.group(1)), m.group(2))
            for text in BACKTICKED.findall(line)
            if (m := STATUS_CODE.match(text))
        }
        assert written <= error_pairs(operations(document)[key]), key


def test_parsing_finds_what_it_should():
    # Guards the guards: a reformatted API.md must not make the tests vacuous.
    assert len(contract_endpoints()) >= 19
    assert len(contract_error_table()) >= 19
