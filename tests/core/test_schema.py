"""The OpenAPI schema is valid and served with Swagger UI and Redoc."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db]


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "openapi: 3.0.3" in text
    assert "/api/v1/" in text and "/api/integration/v1/" in text


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["components"]["schemas"]["Error"]["required"] == [
        "code",
        "detail",
        "errors",
    ]
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert b"/static/drf_spectacular_sidecar/" in page.content  # no CDN needed


def test_the_schema_answers_json_for_format_json_as_drf_spectacular_documents(client):
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200 and "json" in as_json["Content-Type"]
    assert as_json.json()["openapi"].startswith("3.")
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200 and as_yaml.content.startswith(b"openapi:")  # YAML


def test_both_api_roots_exist(client):
    assert client.get("/api/v1/").json()["name"] == "dealer"
    assert client.get("/api/integration/v1/").json()["name"] == "integration"


# --- the schema tells the truth (issue 14) ------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_has_a_summary_a_description_and_no_engineers_docstring(schema):
    for method, path, operation in _operations(schema):
        assert operation.get("summary"), f"{method} {path} has no summary"
        description = operation.get("description", "")
        assert description.strip(), f"{method} {path} has no description for API users"
        # docstrings are reStructuredText for engineers (``name``); API text uses `name`
        assert "``" not in description, f"{method} {path}: {description!r}"


def test_every_authenticated_operation_documents_its_errors_with_the_error_shape(schema):
    for method, path, operation in _operations(schema):
        codes = set(operation["responses"])
        assert {"429", "503"} <= codes, f"{method} {path}"
        for code in ("429", "503"):
            headers = operation["responses"][code].get("headers", {})
            assert "Retry-After" in headers, f"{method} {path} {code}"
        if operation.get("security") and {} not in operation["security"]:
            assert {"401", "403"} <= codes, f"{method} {path}"
        if "{" in path:
            assert "404" in codes, f"{method} {path}"
        if method in ("POST", "PATCH", "PUT"):
            assert "400" in codes, f"{method} {path}"
        # API.md's error statuses (and the transport's 405/413/415/503): no 422
        assert "422" not in codes, f"{method} {path}"
        for code in codes & {"400", "401", "403", "404", "409", "503"}:
            body = operation["responses"][code]["content"]["application/json"]["schema"]
            # a 409 names what it conflicts with (`lines` short of stock, `allowed` statuses)
            shape = "Conflict" if code == "409" else "Error"
            assert body == {"$ref": f"#/components/schemas/{shape}"}, f"{method} {path} {code}"


def _responses(schema, method, path):
    return schema["paths"][path][method.lower()]["responses"]


def test_the_purchase_path_documents_what_the_server_answers(schema):
    removed = _responses(schema, "DELETE", "/api/v1/cart/items/{id}")
    assert "204" not in removed
    assert removed["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Cart"
    }
    assert {"201", "409"} <= set(_responses(schema, "POST", "/api/v1/orders"))
    for action in ("cancel", "approve", "reject"):
        assert "409" in _responses(schema, "POST", f"/api/v1/orders/{{number}}/{action}")


def test_company_users_and_logout_document_what_the_server_answers(schema):
    for method in ("PATCH", "DELETE"):  # the company's last active owner: 409 last_owner
        assert "409" in _responses(schema, method, "/api/v1/company/users/{id}")
    logout = schema["paths"]["/api/v1/auth/logout"]["post"]["description"]
    assert "token_revoked" in logout and "expire on their own" not in logout


def test_cart_quote_and_results_are_typed_not_free_form_dicts(schema):
    components = schema["components"]["schemas"]
    assert components["Cart"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/CartLine"
    }
    assert components["Quote"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/QuoteLine"
    }
    line = components["CartLine"]["properties"]
    assert line["line_net"]["type"] == "string" and line["line_net"]["format"] == "decimal"
    for name in ("CartImportResult", "ReorderResult"):
        for field in components[name]["properties"].values():
            items = field.get("items", {})
            assert items.get("type") != "object" or "properties" in items, name


def test_one_vocabulary_status_history_from_and_money_filters(schema):
    change = schema["components"]["schemas"]["StatusChange"]["properties"]
    assert "from" in change and "from_status" not in change
    assert change["from"]["nullable"] is True
    products = schema["paths"]["/api/v1/products"]["get"]["parameters"]
    for name in ("price_min", "price_max"):
        (parameter,) = [p for p in products if p["name"] == name]
        assert parameter["schema"]["type"] == "string"
        assert parameter["schema"]["format"] == "decimal"


def test_strict_request_bodies_refuse_unknown_fields_in_the_schema_too(schema):
    components = schema["components"]["schemas"]
    assert components["OrderCreateRequest"]["additionalProperties"] is False
    assert components["CartItemInputRequest"]["additionalProperties"] is False


def test_a_conflict_documents_the_fields_it_answers_beside_the_error(schema):
    """The 409 of a short line answers `lines` (its `errors` empty): the schema had no such
    field, and told clients to read `errors`."""
    conflict = schema["components"]["schemas"]["Conflict"]["properties"]
    assert {"detail", "code", "errors", "lines", "allowed", "status"} <= set(conflict)
    assert conflict["lines"]["items"] == {"$ref": "#/components/schemas/ShortLine"}
    placing = _responses(schema, "POST", "/api/v1/orders")["409"]["description"]
    assert "`lines`" in placing
    deliveries = schema["paths"]["/api/integration/v1/webhook-deliveries"]["get"]["parameters"]
    (event_type,) = [p for p in deliveries if p["name"] == "event_type"]
    assert "order.created" in event_type["schema"]["enum"]  # an unknown one answers 400
    for path in ("/api/integration/v1/orders", "/api/integration/v1/webhook-deliveries"):
        parameters = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["page"]["minimum"] == 1, path
        assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 100)


def test_the_feeds_bodies_say_how_many_records_a_batch_takes(schema, settings):
    """More than INTEGRATION_MAX_BATCH records answer 413: a client built from the schema knew
    no bound."""
    feeds = ("products", "stock", "prices", "special-prices", "customers", "invoices", "payments")
    for feed in feeds:
        operation = schema["paths"][f"/api/integration/v1/{feed}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "array", feed
        assert body["maxItems"] == settings.INTEGRATION_MAX_BATCH, feed


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_schema_answers_a_refused_method_in_the_error_format(client, method):
    """It answered in YAML, the message's string and code as a mapping under ``detail``."""
    response = getattr(client, method)("/api/schema/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "method_not_allowed" and isinstance(body["detail"], str)


def test_a_decimal_that_may_not_be_negative_has_no_sign_in_its_pattern(schema):
    """order_limit's pattern allowed "-1", which the server refuses (min_value 0): a client
    generated from the schema sent it."""
    components = schema["components"]["schemas"]
    order_limit = components["CompanyUserCreateRequest"]["properties"]["order_limit"]
    assert order_limit["pattern"].startswith("^\\d")
    # a money field that may be negative (a ledger adjustment) keeps its sign
    signed = [
        prop["pattern"]
        for component in components.values()
        for prop in (component.get("properties") or {}).values()
        if isinstance(prop, dict) and prop.get("format") == "decimal" and "pattern" in prop
    ]
    assert any(pattern.startswith("^-?") for pattern in signed)


def test_a_create_refuses_an_id_it_would_have_ignored(dealer_client):
    client = dealer_client("owner")
    body = {"type": "shipping", "title": "Depo", "line1": "1", "city": "Ankara", "id": 5}
    response = client.post("/api/v1/company/addresses", body, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["id"]
