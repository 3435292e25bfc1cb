"""The OpenAPI document as SDK generators and linters need it: valid, every header declared with a
schema, every problem an operation may answer, binary downloads, clean names, summaries, security,
webhook payloads. (`tests/sdk` lints it with Redocly and generates clients from it.)"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from domain.integrations.model import EventType
from tests.support.api import Api

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The document does not depend on the backend."""
    return str(request.param)


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    r = await api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, item in document["paths"].items() for m, op in item.items() if m in METHODS]


def headers(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, header)
        for _, _, op in operations(document)
        for response in op["responses"].values()
        for name, header in response.get("headers", {}).items()
    ]


def test_it_validates(document: dict[str, Any]) -> None:
    validate(document)  # raises on the first error
    assert document["openapi"].startswith("3.1")
    assert document["info"]["license"]["identifier"] == "MIT"


def test_every_header_is_declared_once_with_a_schema(document: dict[str, Any]) -> None:
    components = document["components"]["headers"]
    for name in ("ETag", "Link", "Location", "WWW-Authenticate", "Retry-After", "RateLimit-Limit", "X-Request-ID"):
        assert "schema" in components[name], name
    for name, header in headers(document):
        assert set(header) == {"$ref"}, name  # each use refers to the component
        assert header["$ref"].removeprefix("#/components/headers/") in components
    responses = {(path, m): op["responses"] for path, m, op in operations(document)}
    assert "ETag" in responses[("/api/v1/courses/{course_id}", "get")]["200"]["headers"]
    assert "Link" in responses[("/api/v1/courses", "get")]["200"]["headers"]
    assert "Location" in responses[("/api/v1/courses", "post")]["201"]["headers"]
    assert "WWW-Authenticate" in responses[("/api/v1/users/me", "get")]["401"]["headers"]
    assert "Retry-After" in responses[("/api/v1/auth/login", "post")]["429"]["headers"]
    assert "RateLimit-Remaining" in responses[("/api/v1/auth/login", "post")]["200"]["headers"]
    assert "RateLimit-Remaining" not in responses[("/api/v1/health", "get")]["200"]["headers"]


def test_every_operation_declares_the_problems_it_may_answer(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        statuses = set(op["responses"])
        assert "400" in statuses, (method, path)
        if path.startswith("/api/v1/") and path != "/api/v1/health":
            assert "503" in statuses, (method, path)
        if "requestBody" in op:
            assert "413" in statuses, (method, path)
        for status, response in op["responses"].items():
            problem = response.get("content", {}).get("application/problem+json")
            if problem is None:
                continue
            example = problem["example"]
            assert example["status"] == int(status), (method, path, status)
            assert (example["detail"] and "Invalid host header" not in response["description"]) or status == "400"
    problem = document["components"]["schemas"]["Problem"]
    assert [e["detail"] for e in problem["examples"]] == ["Course not found", "Request validation failed"]
    assert all("examples" not in prop for prop in problem["properties"].values())  # no random strings


def test_downloads_are_binary(document: dict[str, Any]) -> None:
    for path, media_type in (
        ("/api/v1/files/download/{file_id}", "application/octet-stream"),
        ("/api/v1/certificates/{certificate_id}/download", "application/pdf"),
    ):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert content[media_type]["schema"] == {"type": "string", "format": "binary", "contentMediaType": media_type}
    # A file comes with its own type: any is declared, beside the one generators read as bytes.
    files = document["paths"]["/api/v1/files/download/{file_id}"]["get"]["responses"]["200"]["content"]
    assert files["*/*"]["schema"] == {"type": "string", "format": "binary"}


def test_names_summaries_tags_and_security(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if "." in name or name.startswith("PageResponse")]
    assert {"CoursePage", "LessonPage", "EnrollmentPage", "UserPage", "FilePage"} <= set(schemas)
    declared = {tag["name"] for tag in document["tags"]}
    assert all(tag["description"] for tag in document["tags"])
    summaries = []
    for path, method, op in operations(document):
        assert set(op["tags"]) <= declared, (method, path)
        assert " " in op["summary"], op["summary"]  # written for people, not the handler's name
        summaries.append(op["summary"])
        assert "security" in op, (method, path)
    assert len(summaries) == len(set(summaries))  # no two "Download"
    ops = {(path, method): op for path, method, op in operations(document)}
    assert ops[("/api/v1/auth/login", "post")]["security"] == []
    assert ops[("/api/v1/certificates/verify/{certificate_number}", "get")]["security"] == []
    assert {"BearerToken": []} in ops[("/api/v1/users/me", "get")]["security"]
    assert {} in ops[("/api/v1/courses", "get")]["security"]  # optional
    flows = document["components"]["securitySchemes"]["OAuth2Password"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


def test_the_answers_of_login_tell_themselves_apart(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, value in (("AuthResponse", False), ("MfaChallengeResponse", True)):
        assert "mfa_required" in schemas[name]["required"]
        assert schemas[name]["properties"]["mfa_required"]["const"] is value
    assert schemas["TokenForm"]["properties"]["grant_type"] == {
        "type": "string",
        "enum": ["password"],
        "description": "Only `password`",
    }


def test_every_event_is_a_documented_webhook(document: dict[str, Any]) -> None:
    assert set(document["webhooks"]) == {event.value for event in EventType}
    for event, item in document["webhooks"].items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][body]
        assert schema["properties"]["type"]["const"] == event
        assert {p["name"] for p in item["post"]["parameters"]} == {
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        }
