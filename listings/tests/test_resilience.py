"""Resilience against a real database: overlapping staff writes and outages.

The concurrent and outage cases run in a separate process (each request through the whole
WSGI stack, each thread with its own connection), against the database of this test run for
the writes and against a throwaway PostgreSQL server (scripts/postgres) that the probe stops
and starts for the outage.
"""

import json

import pytest
from django.db import connection

COMMON = r"""
import json, os, random, subprocess, threading, time, traceback
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import RequestFactory

call_command("migrate", verbosity=0)
application = get_wsgi_application()


def get(path, method="get", data=None, **headers):
    seen = {}

    def start_response(status, headers):
        seen.update(status=int(status.split()[0]), headers=dict(headers))

    environ = getattr(RequestFactory(), method)(path, data or {}, **headers).environ
    body = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], body.decode()
"""

OVERLAPPING_WRITES = (
    COMMON
    + r"""
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client
from django.db import transaction
from listings.models import Band, Listing
from listings.roles import sync_shop_staff
from listings.tests.admin_forms import change_form_data, sign_in_verified

SECONDS = float(os.environ["SECONDS"])
# Shop staff (production settings: a superuser would also need a second factor).
admin = get_user_model().objects.create_user("helper", is_staff=True)
admin.groups.add(sync_shop_staff())
bands = [Band.objects.create(name=f"Band {n}", genre="RO", year_formed=1999) for n in range(2)]
for band in bands:
    Listing.objects.bulk_create(
        Listing(title=f"{band.name} tee {i}", type="Clothing", band=band, price=10)
        for i in range(20)
    )
ids = list(Listing.objects.values_list("pk", flat=True))
counts, errors, lock = {}, [], threading.Lock()


def record(what):
    with lock:
        counts[what] = counts.get(what, 0) + 1


def staff_client():
    client = Client(raise_request_exception=False)
    sign_in_verified(client, admin)  # with a second factor, as production asks of editors
    return client


def band_saves(client, band):
    url = f"/admin/listings/band/{band.pk}/change/"
    while time.monotonic() < deadline:
        page = client.get(url)
        if page.status_code != 200:
            record(f"band page {page.status_code}")
            continue
        data = change_form_data(page)
        for row in range(20):
            data[f"listings-{row}-price"] = str(random.randint(1, 99))
        response = client.post(url, data)
        if response.status_code != 200:
            record(f"band save {response.status_code}")
        elif "Someone else saved this" in response.content.decode():
            record("band save refused: a newer change shown")  # what a person would see
        else:  # the form came back for another reason: say which
            errors.append(response.content.decode()[-2000:])


def bulk_actions(client):
    while time.monotonic() < deadline:
        action = random.choice(["mark_sold", "mark_available"])
        chosen = random.sample(ids, 30)
        response = client.post(
            "/admin/listings/listing/", {"action": action, "_selected_action": chosen}
        )
        record(f"bulk action {response.status_code}")


def orm_updates():
    while time.monotonic() < deadline:
        chosen = random.sample(ids, 10)

        # Row by row, a different set each time, in primary-key order as the admin takes them
        # (listings.admin.locked): writers in opposite orders would deadlock by themselves.
        with transaction.atomic():
            for pk in sorted(chosen):
                Listing.objects.filter(pk=pk).update(price=F("price") + 1)
        record("orm update ok")
        time.sleep(0.05)  # about 20 writes a second per thread, like a busy import job


def guarded(work, *args):
    try:
        work(*args)
    except Exception as exc:
        where = [line for line in traceback.format_exc().splitlines() if "<string>" in line]
        errors.append(f"{exc!r} at {where}")
    finally:
        connection.close()


# Signed in before the clock starts: the race is between the writes, not the logins.
threads = [
    threading.Thread(target=guarded, args=(band_saves, staff_client(), band)) for band in bands
]
threads += [threading.Thread(target=guarded, args=(bulk_actions, staff_client())) for _ in range(2)]
threads += [threading.Thread(target=guarded, args=(orm_updates,)) for _ in range(2)]
deadline = time.monotonic() + SECONDS
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"counts": counts, "errors": errors}))
"""
)


# What the probes change in the production-like environment of the `manage` fixture.
PROBE_ENV = {
    "DJANGO_HTTPS": "false",
    "DJANGO_STATIC_MANIFEST": "false",
    "CACHE_URL": "locmemcache://",
}


def run_probe(manage, code, *, postgres, env=None):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        env={**PROBE_ENV, **(env or {})},
        postgres=postgres,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_overlapping_staff_writes_never_fail(manage):
    """Band saves editing their inline listings, bulk actions on the same listings and ORM
    updates, all at once for a few seconds: every save lands or says which newer change it
    would have undone (the form was opened before it), none answers 500."""
    postgres = connection.vendor == "postgresql"
    result = run_probe(manage, OVERLAPPING_WRITES, postgres=postgres, env={"SECONDS": "6"})
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == [], outcome
    counts = outcome["counts"]
    refused = "band save refused: a newer change shown"
    assert set(counts) - {refused} <= {"band save 302", "bulk action 302", "orm update ok"}
    # Every kind of writer really ran (a band save may be refused every time: the bulk
    # actions change its rows between each GET and POST).
    assert counts.get("bulk action 302"), counts
    assert counts.get("orm update ok"), counts
    assert counts.get("band save 302", 0) + counts.get(refused, 0) >= 1, counts


OUTAGE = (
    COMMON
    + r"""
from listings.models import Band

band = Band.objects.create(name="Outage", genre="RO", year_formed=1999)
url = band.get_absolute_url()
seen = {"warm": get(url)[0]}
subprocess.run(os.environ["MERCHEX_PG_STOP"], shell=True, check=True, capture_output=True)
print("--- database stopped", flush=True)
for attempt in range(3):
    status, headers, body = get(url)
    seen[f"cached page {attempt}"] = [status, "Outage" in body, headers.get("Cache-Control")]
for path in ["/listings/?type=Posters", "/search/?q=tee", "/healthz", "/contact/?listing=1"]:
    status, headers, body = get(path)
    seen[path] = [status, headers.get("Retry-After"), "Back in a moment" in body]
token = "c" * 32  # as a browser sends it: the CSRF cookie and the form's token
message = {"name": "Ada", "email": "Ada@example.com", "message": "Hello", "listing": "1",
           "csrfmiddlewaretoken": token}
status, headers, body = get("/contact/", "post", message, HTTP_COOKIE=f"csrftoken={token}")
seen["POST /contact/"] = [status, headers.get("Retry-After"), "Back in a moment" in body]
subprocess.run(os.environ["MERCHEX_PG_START"], shell=True, check=True, capture_output=True)
print("--- database started", flush=True)
seen["after"] = [get(url)[0], get("/healthz")[0], get("/listings/?type=Posters")[0]]
print(json.dumps(seen))
"""
)


def test_a_database_outage_serves_cached_pages_and_503s_and_recovers(manage):
    """PostgreSQL stopped mid-test: a page rendered before comes from the cache, which needs
    no database; others answer a styled 503 with Retry-After, never a 500; one log line when
    the outage starts and one when it ends; pages answer again once the server is back."""
    result = run_probe(manage, OUTAGE, postgres=True, env={"DJANGO_LOG_LEVEL": "INFO"})
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["warm"] == 200
    for attempt in range(3):
        assert seen[f"cached page {attempt}"] == [200, True, "public, no-cache"]
    rendered = ["/listings/?type=Posters", "/search/?q=tee", "/contact/?listing=1"]
    for path in [*rendered, "POST /contact/"]:
        assert seen[path] == [503, "10", True], path
    assert seen["/healthz"][0] == 503
    assert seen["after"] == [200, 200, 200]
    log = result.stdout.split("--- database stopped")[1]
    assert log.count("database unavailable") == 1, log
    assert log.count("database available again") == 1, log
    assert "Traceback" not in result.stdout + result.stderr
    assert "Internal Server Error" not in result.stdout + result.stderr


@pytest.mark.django_db
def test_every_watched_table_has_its_triggers_after_migrating():
    """SQLite rebuilds a table to alter it, and the rebuilt table has no triggers: they are
    installed again after every migrate."""
    from listings import triggers

    tables = ["listings_band", "listings_listing"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text = ANY(%s)",
                [tables],
            )
            expected = triggers.POSTGRESQL_SEARCH_TRIGGERS
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                tables,
            )
            expected = triggers.SQLITE_SEARCH_TRIGGERS
        assert {row[0] for row in cursor.fetchall()} == set(expected)
