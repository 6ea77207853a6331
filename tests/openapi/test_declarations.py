"""Each route declares itself on its view; the document is built from those."""

from app.openapi.declare import declaration_of, operation, response
from app.openapi.spec import build_spec
from app.schemas.auth import MessageSchema
from tests.urls import LOGIN, OPENAPI

# The docs page's own files: plumbing, not API.
NOT_DECLARED = {"openapi.docs_asset"}
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}


def undeclared_routes(app):
    return [
        f"{sorted(rule.methods - AUTOMATIC_METHODS)} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in NOT_DECLARED
        and rule.methods - AUTOMATIC_METHODS
        and declaration_of(app.view_functions[rule.endpoint]) is None
    ]


def test_every_route_declares_itself(app):
    assert not undeclared_routes(app), undeclared_routes(app)


def test_a_route_without_a_declaration_is_caught(make_app):
    other = make_app()
    other.add_url_rule("/undeclared", "undeclared", lambda: "x")
    # Half a declaration (an answer, no operation) is none.
    half = response(MessageSchema)(lambda: {"message": "x"})
    other.add_url_rule("/half", "half", half)
    assert sorted(undeclared_routes(other)) == [
        "['GET'] /half (half)",
        "['GET'] /undeclared (undeclared)",
    ]
    with other.app_context():
        paths = build_spec(other)["paths"]
    assert "/undeclared" not in paths and "/half" not in paths


def test_a_declared_route_is_in_the_document(make_app):
    other = make_app()

    @operation(tag="operations", errors={404: ["not_found"]})
    @response(MessageSchema, examples={})
    def ping():
        """Answer a message.

        Only for this test.
        """
        return {"message": "pong", "ignored": "not in the schema"}

    other.add_url_rule("/ping", "ping", ping)
    with other.app_context():
        document = build_spec(other)
    operation_doc = document["paths"]["/ping"]["get"]
    assert operation_doc["operationId"] == "ping"
    assert operation_doc["summary"] == "Answer a message"
    assert operation_doc["description"] == "Only for this test."
    assert set(operation_doc["responses"]) == {"200", "404", "500"}
    # The view's answer went through the declared schema.
    answer = other.test_client().get("/ping").get_json()
    assert answer == {"success": True, "data": {"message": "pong"}}


def test_document_metadata(client):
    document = client.get(OPENAPI).get_json()
    assert document["servers"] and document["servers"][0]["url"]
    assert document["info"]["license"]["name"]
    assert document["info"]["contact"]["name"]
    for path, item in document["paths"].items():
        for method, operation_doc in item.items():
            if method == "parameters":
                continue
            assert operation_doc["description"].strip(), (method, path)
            assert operation_doc["summary"].strip(), (method, path)


def test_login_answer_is_the_declared_profile(auth):
    # One spelling of the login payload: LoginDataSchema, no timestamps.
    caller = auth.register(mode="bearer")
    response = caller.client.post(
        LOGIN,
        json={"email": caller.extra["email"], "password": caller.extra["password"]},
        headers={"X-Auth-Mode": "bearer"},
    )
    data = response.get_json()["data"]
    assert set(data) == {
        "id",
        "name",
        "email",
        "profilePicture",
        "emailVerified",
        "accessToken",
        "tokenType",
        "expiresIn",
        "refreshToken",
        "refreshExpiresIn",
        "deviceToken",
    }
