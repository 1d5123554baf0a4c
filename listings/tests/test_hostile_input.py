"""No 500 from input: hostile query strings, bodies, paths, methods and headers on every public URL.

The named cases are the ones a fuzzing run found (issue "Security"); Hypothesis then generates
more of the same kinds. Every request must get a 2xx, 3xx or 4xx answer on either database.
"""

import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listings.tests.corpus import HOSTILE_TEXT, PARAMETERS, PUBLIC_PATHS
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fuzz_client(db):
    band = BandFactory(name="De La Soul")
    listing = ListingFactory(title="Tour poster", band=band)
    client = Client()
    client.ids = {"band": band.pk, "listing": listing.pk}
    return client


def path_for(client, template):
    return template.format(**client.ids)


def assert_answers_without_error(response, what):
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/contact/?listing=%C2%B2"),
        ("POST", "/contact/?listing=%C2%B2"),
        ("GET", "/contact/?listing=99999999999999999999999"),
        ("GET", "/contact/?listing=%00"),
        ("GET", "/search/?q=%00"),
        ("GET", "/search/?q=a%00b"),
        ("GET", "/search/?q=%ED%A0%80"),
        ("GET", "/search/?q=%FF%FE"),
        ("GET", "/listings/?page=%00&sort=%00&type=%00"),
        ("GET", "/bands/99999999999999999999999-x/"),
    ],
)
def test_reported_inputs_get_a_clear_answer(fuzz_client, method, url):
    response = fuzz_client.generic(method, url)
    assert_answers_without_error(response, f"{method} {url}")


def test_a_unicode_digit_in_the_contact_form_is_a_form_error(fuzz_client):
    data = {"name": "Ada", "email": "ada@example.com", "message": "Hi", "listing": "²"}
    response = fuzz_client.post("/contact/", data)
    assert response.status_code == 200
    assert "The item this message was about is no longer in the shop." in response.text
    assert mail.outbox == []


def test_a_bad_host_with_a_broken_multipart_body_gets_the_sites_400_page(fuzz_client):
    response = fuzz_client.generic(
        "POST",
        "/contact/",
        b"--broken\r\nContent-Disposition: form-data; name=\x00\r\n",
        content_type="multipart/form-data; boundary=",
        HTTP_HOST="evil.example",
        HTTP_COOKIE="csrftoken=" + "a" * 32,
    )
    assert response.status_code == 400
    assert "Bad request" in response.text


def test_a_failed_csrf_check_gets_the_sites_403_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/contact/", {"name": "Ada"})
    assert response.status_code == 403
    assert "could not be sent" in response.text
    assert '<a href="/contact/">' in response.text


text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
queries = st.lists(st.tuples(st.sampled_from(PARAMETERS) | text, text), max_size=5)
junk_bytes = st.binary(max_size=300)
methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"])
hosts = st.just("testserver") | st.sampled_from(
    ["testserver:8000", "evil.example", "", "a" * 300, "testserver:x", "[::1]"]
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data; boundary=",
        "multipart/form-data",
        "application/json",
        "text/plain; charset=bogus",
    ]
)
# What a WSGI server passes on: header bytes decoded as Latin-1 (PEP 3333).
header_text = st.sampled_from(HOSTILE_TEXT[:14]).map(
    lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1")
) | st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
headers = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_COOKIE": st.sampled_from(["csrftoken=", "sessionid=\x00", "a=b; ;;=", "=" * 100])
        | header_text,
        "HTTP_IF_NONE_MATCH": header_text,
        "HTTP_IF_MODIFIED_SINCE": header_text,
        "HTTP_ACCEPT_ENCODING": header_text,
        "HTTP_X_FORWARDED_FOR": header_text,
        "HTTP_REFERER": header_text,
        "HTTP_USER_AGENT": st.just("x" * 10_000) | header_text,
    },
)


def form_body(pairs):
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")


def percent_encode(value):
    return "".join(f"%{byte:02X}" for byte in value.encode("utf-8", "surrogatepass"))


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(PUBLIC_PATHS),
    suffix=st.sampled_from(["", "x", "%00", "%FF", "..%2F", "%C0%AF"]),
    query=queries,
    method=methods,
    host=hosts,
    content_type=content_types,
    body=junk_bytes | queries.map(form_body),
    extra=headers,
)
def test_hostile_requests_never_get_a_server_error(
    fuzz_client, path, suffix, query, method, host, content_type, body, extra
):
    query_string = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in query)
    url = f"{path_for(fuzz_client, path)}{suffix}?{query_string}"
    response = fuzz_client.generic(
        method, url, body, content_type=content_type, HTTP_HOST=host, **extra
    )
    assert_answers_without_error(response, f"{method} {url} Host={host!r}")
