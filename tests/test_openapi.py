"""The committed OpenAPI document is the one the app serves, and it documents every operation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

COMMITTED = Path(__file__).parents[1] / "openapi" / "openapi.json"
REGENERATE = "wlbtrack openapi --output openapi/openapi.json"
WRITE_AND_READ = {"get", "post", "put", "patch", "delete"}


async def test_committed_schema_matches_the_served_one(client: httpx.AsyncClient) -> None:
    served = (await client.get("/schema/openapi.json")).json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, f"openapi/openapi.json is stale; regenerate it with: {REGENERATE}"


def test_every_operation_has_summary_tag_and_responses() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            assert operation.get("tags"), f"{where} has no tag"
            assert any(code.startswith("2") for code in operation["responses"]), (
                f"{where}: no success response"
            )
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in response.get("content", {}), f"{where} {code}"
            if path.startswith("/api/v1"):
                assert operation.get("security") or document.get("security"), f"{where} has no security"


def test_description_explains_the_japanese_terms() -> None:
    description = json.loads(COMMITTED.read_text(encoding="utf-8"))["info"]["description"]
    for term in ("大作戦", "取り組みの方向性", "目安", "担当部", "主な取り組み"):
        assert term in description


async def test_allow_headers_agree_with_the_document(viewer: httpx.AsyncClient) -> None:
    """OPTIONS and 405 list every method the document gives the path (plus OPTIONS, and HEAD with GET)."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    samples = {
        "{code}": "1.1.1",
        "{indicator_id}": "1",
        "{token_id}": "1",
        "{department}": "children",
        "{webhook_id}": "1",
        "{delivery_id}": "1",
    }
    for template, operations in document["paths"].items():
        path = template
        for placeholder, value in samples.items():
            path = path.replace(placeholder, value)
        documented = {
            method.upper() for method in operations if method in {"get", "post", "put", "patch", "delete"}
        }
        response = await viewer.request("OPTIONS", path)
        assert response.status_code == 204, (template, response.status_code, response.text)
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed - {"OPTIONS", "HEAD"} == documented - {"HEAD"}, template
        refused = next(method for method in ("PUT", "DELETE", "PATCH", "POST") if method not in allowed)
        response = await viewer.request(refused, path)
        assert response.status_code == 405, (template, refused)
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, template


def test_the_document_serves_generated_clients() -> None:
    """Readable operation ids, typed error items, enumerations in responses, CSV exports, links, examples."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    operations = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in WRITE_AND_READ
    }
    assert {"list_guidelines", "export_values", "export_reports", "create_submission", "revoke_token"} <= set(
        operations
    )
    schemas = document["components"]["schemas"]
    assert schemas["Problem"]["properties"]["errors"]["oneOf"][0]["items"] == {
        "$ref": "#/components/schemas/ProblemError"
    }
    assert schemas["ProblemError"]["required"] == ["field", "message"]
    assert "examples" not in json.dumps(schemas["Problem"])
    assert schemas["ReportPublic"]["properties"]["status"]["enum"] == [
        "not_started",
        "on_track",
        "at_risk",
        "delayed",
        "completed",
    ]
    assert schemas["TokenPublic"]["properties"]["role"]["enum"] == ["admin", "department", "viewer"]
    for name in ("export_values", "export_reports"):
        assert {"application/json", "text/csv"} <= set(operations[name]["responses"]["200"]["content"])
    assert schemas["SubmissionIn"]["not"]["properties"]["reports"] == {"type": "array", "maxItems": 0}
    assert schemas["SubmissionIn"]["properties"]["period"]["pattern"] == "^(?:20[0-9]{2}|2100)-Q[1-4]$"
    assert schemas["SubmissionIn"]["examples"][0]["reports"][0]["summary"].startswith("区民向け講座")
    links = operations["create_indicator"]["responses"]["201"]["links"]
    assert links["list_values"]["parameters"] == {"indicator_id": "$response.body#/id"}
    revoke = operations["create_token"]["responses"]["201"]["links"]["revoke_token"]
    assert revoke["parameters"] == {"token_id": "$response.body#/id"}
    for code, response in operations["create_submission"]["responses"].items():
        if code.startswith(("4", "5")):
            example = next(iter(response["content"]["application/problem+json"]["examples"].values()))
            assert example["value"]["status"] == int(code)


# A code of each catalogue kind that exists and one of the same form that does not, told apart by the
# pattern the document gives the parameter; periods are no catalogue code.
KNOWN_CODES = ("1", "1.1", "1.1.4", "children")
UNKNOWN_CODES = ("9", "9.9", "9.9.9", "no-such-department")


def _of_form(schema: dict[str, Any], candidates: tuple[str, ...]) -> str | None:
    """The first candidate the schema's pattern admits."""
    return next(iter(_all_of_form(schema, candidates)), None)


def _all_of_form(schema: dict[str, Any], candidates: tuple[str, ...]) -> list[str]:
    return [code for code in candidates if re.fullmatch(schema.get("pattern", "^$"), code)]


def _code_parameters(where: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, GET operation, parameter) for every catalogue code parameter `where` (query or path)."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return [
        (template, item["get"], parameter)
        for template, item in document["paths"].items()
        if "get" in item
        for parameter in item["get"].get("parameters", [])
        if parameter["in"] == where and len(_all_of_form(parameter["schema"], KNOWN_CODES)) == 1
    ]


def _path_of(template: str, operation: dict[str, Any], replaced: dict[str, str]) -> str:
    """The template with every path parameter set: `replaced`, else a code of its form that exists."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = replaced.get(parameter["name"]) or _of_form(
                parameter["schema"], (*KNOWN_CODES, "2025-Q3")
            )
            template = template.replace("{" + parameter["name"] + "}", value or "1")
    return template


async def test_an_unknown_code_in_any_query_filter_is_a_422_naming_it(admin: httpx.AsyncClient) -> None:
    """Every operation's code filters: the document states their form and length, and a code the plan does
    not have (of that form, of another, empty or too long) is a 422 naming the parameter."""
    filters = _code_parameters("query")
    assert {parameter["name"] for _, _, parameter in filters} == {
        "campaign",
        "direction",
        "guideline",
        "department",
    }
    assert len(filters) >= 14, filters  # the catalogue, progress, export and indicator lists
    for template, operation, parameter in filters:
        name, schema = parameter["name"], parameter["schema"]
        assert (schema["minLength"], schema["maxLength"]) == (1, 64), (template, name)
        path = _path_of(template, operation, {})
        for value in (_of_form(schema, UNKNOWN_CODES), "zzz!", "", "x" * 65):
            response = await admin.get(path, params={name: value})
            assert response.status_code == 422, (template, name, value, response.text)
            assert response.json()["field"] == name, (template, name, value)


async def test_an_unknown_code_in_any_path_is_a_404_naming_it(admin: httpx.AsyncClient) -> None:
    for template, operation, parameter in _code_parameters("path"):
        name = parameter["name"]
        for value in (_of_form(parameter["schema"], UNKNOWN_CODES), "zzz!", "x" * 65):
            assert value is not None
            response = await admin.get(_path_of(template, operation, {name: value}))
            assert response.status_code == 404, (template, name, value, response.text)
            assert response.json()["field"] == name, (template, name, value)


async def test_codes_in_request_bodies_state_their_form_and_an_unknown_one_is_a_422_naming_it(
    admin: httpx.AsyncClient,
) -> None:
    """The department and guideline codes of every request body: the document states their form and length,
    and a code the plan does not have, of that form or of another, is a 422 naming the field."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    bodies = re.findall(
        r'"#/components/schemas/(\w+)"',
        json.dumps(
            [
                operation["requestBody"]["content"].get("application/json", {})
                for item in document["paths"].values()
                for operation in item.values()
                if "requestBody" in operation
            ]
        ),
    )
    schemas = document["components"]["schemas"]
    bodies += re.findall(r'"#/components/schemas/(\w+)"', json.dumps([schemas[name] for name in bodies]))
    fields = {
        (name, field): schema
        for name in set(bodies)
        for field, schema in schemas[name].get("properties", {}).items()
        if field in ("department", "guideline")
    }
    assert set(fields) == {
        ("TokenIn", "department"),
        ("ReportIn", "department"),
        ("IndicatorIn", "department"),
        ("SubmissionIn", "department"),
        ("SubmissionReport", "guideline"),
    }
    for (name, field), schema in fields.items():
        assert (schema["minLength"], schema["maxLength"]) == (1, 64), (name, field)
        assert len(_all_of_form(schema, KNOWN_CODES)) == 1, (name, field, schema)
    report = {"period": "2025-Q3", "status": "on_track", "summary": "順調"}
    for department in ("no-such-department", "Children"):
        for path, body in (
            ("/api/v1/tokens", {"role": "department", "department": department}),
            ("/api/v1/guidelines/1.1.4/reports", {**report, "department": department}),
        ):
            response = await admin.post(path, json=body)
            assert response.status_code == 422, (path, department, response.text)
            assert response.json()["field"] == "department", (path, department)
    for guideline in ("9.9.9", "1-1-4"):
        item = {"guideline": guideline, "status": "on_track", "summary": "順調"}
        batch = {"period": "2025-Q3", "department": "children", "reports": [item]}
        response = await admin.post("/api/v1/submissions", json=batch)
        assert response.status_code == 422, (guideline, response.text)
        assert "reports[0].guideline" in response.text, guideline


async def test_row_ids_in_paths_state_their_range_and_beyond_it_is_not_found(
    admin: httpx.AsyncClient,
) -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ids = [
        (template, parameter)
        for template, item in document["paths"].items()
        for parameter in next(iter(item.values())).get("parameters", [])
        if parameter["in"] == "path" and parameter["schema"]["type"] == "integer"
    ]
    assert {parameter["name"] for _, parameter in ids} == {
        "indicator_id",
        "token_id",
        "webhook_id",
        "delivery_id",
    }
    for template, parameter in ids:
        schema = parameter["schema"]
        assert (schema["minimum"], schema["maximum"]) == (1, 2**31 - 1), template
    for value in ("0", str(2**31), str(2**63), str(2**64), "01", "-1"):
        response = await admin.get(f"/api/v1/indicators/{value}")
        assert response.status_code == 404, (value, response.text)


def test_headers_and_cursors_state_their_form() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "Idempotency-Key":
                    assert parameter["schema"]["pattern"] == "^[ -~]*[!-~][ -~]*$"
                    assert parameter["schema"]["maxLength"] == 255
                if parameter["name"] == "cursor":
                    assert parameter["schema"]["pattern"] == "^[A-Za-z0-9_-]+$"
