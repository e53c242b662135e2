"""Every API error has the body of API.md: {"detail", "code", "errors"}."""

import pytest

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


def assert_error_shape(body):
    assert set(body) >= {"detail", "code", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["errors"], dict)


def test_invalid_input_answers_400_with_field_level_messages(api_client):
    response = api_client.post(
        "/api/test/echo", {"name": "too long", "quantity": 0, "address": {"city": "Ankara"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body)
    assert body["code"] in {"max_length", "invalid"}
    assert set(body["errors"]) == {"name", "quantity", "address.city"}
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)


def test_missing_field_is_named(api_client):
    response = api_client.post("/api/test/echo", {})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "quantity"}


def test_malformed_json_answers_400(api_client):
    response = api_client.post("/api/test/echo", data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json())
    assert response.json()["code"] == "parse_error"


def test_malformed_json_is_explained_in_the_readers_language_with_where(api_client):
    body = '{\n  "name": "x",\n  bad\n}'
    turkish = api_client.post(
        "/api/test/echo", data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="tr"
    ).json()
    assert turkish["detail"] == "Gövde geçerli bir JSON değil (satır 3, sütun 3)."
    assert turkish["errors"]["non_field_errors"] == [turkish["detail"]]
    english = api_client.post("/api/test/echo", data=body, content_type="application/json")
    assert english.json()["detail"] == "The body is not valid JSON (line 3, column 3)."


def test_body_that_is_not_an_object_answers_400(api_client):
    response = api_client.post("/api/test/echo", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_domain_validation_error_answers_400(api_client):
    response = api_client.get("/api/test/errors/validation")
    assert response.status_code == 400
    assert response.json()["errors"] == {"quantity": ["Must be a multiple of 5."]}


def test_missing_credentials_answer_401(api_client):
    response = api_client.get("/api/test/protected")
    assert response.status_code == 401
    assert_error_shape(response.json())
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_not_allowed_answers_403(api_client):
    response = api_client.get("/api/test/errors/forbidden")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_not_found_answers_404(api_client):
    response = api_client.get("/api/test/errors/missing")
    assert response.status_code == 404
    assert_error_shape(response.json())
    assert response.json()["code"] == "not_found"


def test_unknown_api_url_answers_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_conflict_answers_409_with_its_details(api_client):
    response = api_client.get("/api/test/errors/conflict")
    assert response.status_code == 409
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "insufficient_stock"
    assert body["lines"] == [{"sku": "A-1", "requested": 5, "available": 2}]


def test_oversized_body_answers_413_before_it_is_read(api_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = api_client.post(
        "/api/test/echo", data='{"name": "' + "x" * 200 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_wrong_method_answers_405_in_the_error_format(api_client):
    response = api_client.delete("/api/test/echo")
    assert response.status_code == 405
    assert_error_shape(response.json())


def test_rate_limit_answers_429_with_retry_after(api_client, settings, frozen_window):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ip": "3/min", "user": None, "api_key": None},
    }
    statuses = [api_client.get("/api/test/throttled").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api_client.get("/api/test/throttled")
    assert response.status_code == 429
    assert_error_shape(response.json())
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) == 55  # the window ends 55 s after the frozen clock


def test_rate_limit_off_lets_everything_through(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ip": None, "user": None, "api_key": None},
    }
    assert {api_client.get("/api/test/throttled").status_code for _ in range(10)} == {200}


def test_error_messages_follow_accept_language(api_client):
    response = api_client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 404
    assert response.json()["detail"] == "Bulunamadı."
    assert response["Content-Language"] == "tr"


def test_api_times_are_utc(api_client, settings):
    assert settings.TIME_ZONE == "Europe/Istanbul"
    response = api_client.get("/api/test/log")
    assert response.json()["now"].endswith("Z")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/no%00where", "path"),
        ("/api/test/numbers?page=1%00", "page"),
        ("/api/test/numbers?x%00=1", "x"),
    ],
)
def test_null_characters_in_the_url_answer_400_naming_where(api_client, url, field):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "null_characters"
    assert response.json()["errors"] == {field: ["Null characters are not allowed."]}


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/test/numbers?page=%FF", "page"), ("/api/test/numbers?x=%ED%A0%80", "x")],
)
def test_bytes_that_are_not_utf8_in_the_query_answer_400_naming_where(api_client, url, field):
    # Django reads them as "\ufffd": a filter or a search on text nobody sent
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_encoding"
    assert response.json()["errors"] == {field: ["The text sent is not valid UTF-8."]}


def test_a_raw_byte_that_is_not_utf8_in_the_query_answers_400_too(api_client):
    """Sent unescaped (``?page=\xff``), the server hands the byte on as a Latin-1 letter and
    Django read it so: a search for "ÿ" nobody typed. Only ``%FF`` was refused."""
    response = api_client.get("/api/test/numbers", QUERY_STRING="page=\xff&x=%C3%A7")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page": ["The text sent is not valid UTF-8."]}
    # UTF-8 sent raw is UTF-8: "ç" as its two bytes, each a Latin-1 letter on the way in
    assert api_client.get("/api/test/numbers", QUERY_STRING="x=\xc3\xa7").status_code == 200


@pytest.mark.parametrize("debug", [True, False])
def test_a_host_not_allowed_answers_the_json_error_on_the_apis(api_client, settings, debug):
    """With DEBUG on (the demo) Django answered its HTML debug page: the API's error format
    always, with the answer's usual headers."""
    settings.DEBUG = debug
    response = api_client.get("/api/v1/me", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="r-1")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request", "errors": {}}
    assert response["X-Request-ID"] == "r-1" and response["Cache-Control"] == "no-store"


def test_a_form_of_too_many_fields_answers_the_json_error_with_debug_on(dealer_client, settings):
    settings.DEBUG = True
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = dealer_client().generic(
        "POST", "/api/v1/cart/import", fields, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("charset", ["undefined", "punycode", "latin-1", "utf-16", "nonsense"])
@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/auth/token", "application/json", b'{"email": "a@b.c", "password": "x"}'),
        ("/api/test/echo", "application/json", b'{"name": "\xe7", "quantity": 1}'),
        ("/api/v1/payments/callback/paynet", "application/x-www-form-urlencoded", b"x=1"),
        ("/api/integration/v1/products", "application/json", b"[]"),
    ],
)
def test_a_body_declared_in_a_charset_other_than_utf8_answers_400(
    api_client, path, content_type, body, charset
):
    """JSON is UTF-8: ``charset=undefined`` or ``punycode`` (codecs for no text) answered 500,
    and ``latin-1`` read the bytes as other letters than the ones sent."""
    response = api_client.generic(
        "POST", path, body, content_type=f"{content_type}; charset={charset}"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_encoding"
    assert response.json()["errors"] == {"Content-Type": ["Send the body in UTF-8."]}


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "us-ascii"])
def test_a_body_declared_in_utf8_or_ascii_is_read(api_client, charset):
    response = api_client.generic(
        "POST",
        "/api/test/echo",
        b'{"name": "ok", "quantity": 1}',
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 200, response.content


def test_the_json_parser_refuses_a_codec_for_no_text_on_its_own():
    """Behind the middleware too: a codec like ``undefined`` raises a bare UnicodeError."""
    import io

    from rest_framework.exceptions import ParseError

    from apps.core.api.parsers import SafeJSONParser

    with pytest.raises(ParseError):
        SafeJSONParser().parse(io.BytesIO(b"{}"), parser_context={"encoding": "undefined"})


def test_a_lazily_translated_message_is_the_error_itself_not_invalid_input():
    from django.utils.translation import gettext_lazy

    from apps.core.exceptions import NON_FIELD, ValidationError

    error = ValidationError(gettext_lazy("The arguments cannot be read back."))
    assert str(error.detail) == "The arguments cannot be read back."
    assert [str(m) for m in error.errors[NON_FIELD]] == ["The arguments cannot be read back."]
