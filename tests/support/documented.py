"""Checks against the OpenAPI document the API serves: what is sent matches what is declared."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.support.api import Api


async def assert_documented_event(api: Api, body: dict[str, Any]) -> None:
    """A webhook body (as delivered, or as the outbox holds it) is valid under the document's
    `webhooks` declaration for its type."""
    document = (await api.client.get("/schema/openapi.json")).json()
    request = document["webhooks"][body["type"]]["post"]["requestBody"]
    schema = {"$ref": request["content"]["application/json"]["schema"]["$ref"], "components": document["components"]}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
