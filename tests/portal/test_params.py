"""Case-insensitive names, booleans, literal `+`, `{}` bodies and the `fields` projection."""

import json

import pytest
from django.http import QueryDict

from portal.lrapi.errors import LRError
from portal.lrapi.params import CIBody, CIQuery, canonical_keys, parse_bool
from portal.lrapi.projection import apply_fields, parse_fields
from tests.portal.conftest import PROBE_URLS

PROFILE = {
    "Uid": "u1",
    "FirstName": "Ann",
    "Email": [{"Type": "Primary", "Value": "a@x.com"}, {"Type": "Secondary", "Value": "b@x.com"}],
    "Addresses": {"Home": {"City": "Oslo", "Country": "NO"}, "Work": {"City": "Bergen"}},
}


# Unit: projection


def test_fields_comma_list_is_case_insensitive():
    assert apply_fields(PROFILE, "uid,FIRSTNAME") == {"Uid": "u1", "FirstName": "Ann"}


def test_fields_slash_path():
    assert apply_fields(PROFILE, "Addresses/Home") == {
        "Addresses": {"Home": {"City": "Oslo", "Country": "NO"}}
    }
    assert apply_fields(PROFILE, "addresses/home/city") == {"Addresses": {"Home": {"City": "Oslo"}}}


def test_fields_parenthesised_subfields_apply_to_each_list_item():
    assert apply_fields(PROFILE, "Email(Value)") == {
        "Email": [{"Value": "a@x.com"}, {"Value": "b@x.com"}]
    }
    assert apply_fields(PROFILE, "Uid,Addresses(Home(City),Work)") == {
        "Uid": "u1",
        "Addresses": {"Home": {"City": "Oslo"}, "Work": {"City": "Bergen"}},
    }


def test_fields_star_and_empty_keep_everything():
    assert apply_fields(PROFILE, "*") == PROFILE
    assert apply_fields(PROFILE, "") == PROFILE
    assert apply_fields(PROFILE, None) == PROFILE
    assert parse_fields("*") is None


def test_fields_merge_whole_and_partial_of_the_same_key():
    assert apply_fields(PROFILE, "Addresses/Home/City,Addresses") == {
        "Addresses": PROFILE["Addresses"]
    }


def test_fields_projection_of_a_list_response():
    assert apply_fields([PROFILE, PROFILE], "uid") == [{"Uid": "u1"}, {"Uid": "u1"}]


def test_fields_unknown_names_give_an_empty_object():
    assert apply_fields(PROFILE, "nothing") == {}


# Unit: names and booleans


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1", True])
def test_true_values(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", ["false", "False", "0", "", False])
def test_false_values(value):
    assert parse_bool(value) is False


def test_nonsense_boolean_is_908():
    with pytest.raises(LRError) as caught:
        parse_bool("maybe", name="nullsupport")
    assert caught.value.error_code == 908
    assert "nullsupport" in caught.value.description


def test_ciquery_matches_any_case_and_keeps_plus():
    query = CIQuery(QueryDict("apiKey=k&NullSupport=True&email=a+b@x.com&phone=+4712345678"))
    assert query.get("APIKEY") == "k" and "apikey" in query
    assert query.get_bool("nullsupport") is True
    assert query.get_plus_preserving("Email") == "a+b@x.com"
    assert query.get_plus_preserving("phone") == "+4712345678"
    assert query.get_bool("absent", default=True) is True


def test_cibody_is_case_insensitive_at_every_level():
    body = CIBody({"FirstName": "Ann", "Address": {"City": "Oslo"}})
    assert body["firstname"] == "Ann"
    assert body["ADDRESS"]["city"] == "Oslo"
    assert "firstName" in body and "lastname" not in body
    assert body.original_key("FIRSTNAME") == "FirstName"


def test_canonical_keys_renames_and_reports_unknowns():
    renamed, unknown = canonical_keys({"firstname": "A", "Bogus": 1}, {"firstname": "FirstName"})
    assert renamed == {"FirstName": "A"} and unknown == ["Bogus"]


# Through a view


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
def test_python_sdk_style_query_survives_end_to_end(api, credential):
    # The v11 Python SDK concatenates values without encoding: `+` arrives literally.
    response = api.get(
        f"/api/v1/_probe/echo?APIKEY={credential.tenant.api_key}&ApiSecret={credential.raw}"
        f"&EMAIL=a+b@example.com&Flag=True&NAME=Ann&fields=Email,Flag,Name"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"Email": "a+b@example.com", "Flag": True, "Name": "Ann"}


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
def test_encoded_plus_is_kept_too(api, credential):
    response = api.get(
        f"/api/v1/_probe/echo?apikey={credential.tenant.api_key}&apisecret={credential.raw}&email=a%2Bb@example.com&flag=false"
    )
    assert response.json()["Email"] == "a+b@example.com" and response.json()["Flag"] is False


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
def test_body_keys_any_case(lr):
    response = lr.post("/api/v1/_probe/echo", body={"FIRSTNAME": "Ann"})
    assert response.json()["BodyFirstName"] == "Ann"


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
@pytest.mark.parametrize("method", ["get", "put", "delete", "post"])
def test_empty_object_and_absent_bodies_are_accepted(lr, method):
    url = f"/api/v1/_probe/echo?apikey={lr.credential.tenant.api_key}"
    headers = {"HTTP_X_LOGINRADIUS_APISECRET": lr.credential.raw}
    with_empty = lr.client.generic(
        method.upper(), url, "{}", content_type="application/json", **headers
    )
    assert with_empty.status_code == 200, with_empty.content
    assert with_empty.json()["Body"] == {}
    absent = lr.client.generic(method.upper(), url, **headers)
    assert absent.status_code == 200, absent.content
    assert absent.json()["Body"] == {}


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
def test_path_segments_match_in_any_case(lr):
    response = lr.get("/IDENTITY/V2/Manage/_PROBE/Uid-7/echo")
    assert response.status_code == 200, response.content
    assert lr.get("/API/V1/Tenant").status_code == 200


@pytest.mark.django_db
def test_fields_projection_on_a_real_endpoint(lr, tenant):
    response = lr.get("/api/v1/tenant", {"fields": "Name,Credential(Label)"})
    assert response.json() == {"name": tenant.name, "credential": {"label": "test"}}


@pytest.mark.django_db
@pytest.mark.urls(PROBE_URLS)
def test_raw_json_unicode_body(lr):
    response = lr.client.post(
        f"/api/v1/_probe/echo?apikey={lr.credential.tenant.api_key}",
        json.dumps({"firstName": "Åse"}, ensure_ascii=False).encode(),
        content_type="application/json; charset=utf-8",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert response.json()["BodyFirstName"] == "Åse"


@pytest.mark.urls(PROBE_URLS)
def test_deeply_nested_body_is_a_malformed_body_not_a_server_error(lr):
    depth = 100_000
    body = "[" * depth + "]" * depth
    response = lr.client.post(
        f"/api/v1/_probe/echo?apikey={lr.credential.tenant.api_key}",
        data=body,
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == 965
