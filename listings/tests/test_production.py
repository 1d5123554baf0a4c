"""Production behaviour: settings from the environment, headers, error pages, health, static."""

import gzip
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from listings.models import Band, Listing
from listings.tests.servers import Nginx, free_port, wait_until_healthy

SHOW_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
    "for k in ['DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SECURE_HSTS_SECONDS', 'ALLOWED_HOSTS', 'CSRF_TRUSTED_ORIGINS']} "
    "| {'PROXY': getattr(s, 'SECURE_PROXY_SSL_HEADER', None)}))"
)


def test_missing_secret_key_stops_startup_with_one_clear_line(manage):
    result = manage("check", env={"DJANGO_SECRET_KEY": None})
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_short_secret_key_stops_startup_with_one_clear_line(manage):
    result = manage("check", env={"DJANGO_SECRET_KEY": "0123456789"})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "merchex: DJANGO_SECRET_KEY is 10 characters long; use 50 or more."
    )


def test_debug_mode_runs_without_a_secret_key(manage):
    result = manage("check", env={"DJANGO_SECRET_KEY": None, "DJANGO_DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_check_deploy_prints_no_warnings(manage):
    env = {"MERCHEX_ORIGIN": "https://shop.example"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_asks_for_the_canonical_origin(manage):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={"MERCHEX_ORIGIN": None})
    assert result.returncode != 0
    assert "merchex.W001" in result.stdout + result.stderr


@pytest.mark.parametrize("origin", ["shop.example", "https://shop.example/shop", "ftp://x.example"])
def test_a_malformed_origin_stops_startup_with_one_clear_line(manage, origin):
    result = manage("check", env={"MERCHEX_ORIGIN": origin})
    assert result.returncode != 0
    assert result.stderr.strip().startswith("merchex: MERCHEX_ORIGIN must be like https://")


def test_production_defaults_are_secure(manage):
    result = manage("shell", "--no-imports", "-c", SHOW_SETTINGS, check=True)
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["ALLOWED_HOSTS"] == ["shop.example", "testserver"]
    assert values["PROXY"] is None


def test_tls_proxy_and_origins_come_from_the_environment(manage):
    env = {
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://shop.example",
        "DJANGO_HTTPS": "false",
    }
    values = json.loads(
        manage("shell", "--no-imports", "-c", SHOW_SETTINGS, env=env, check=True).stdout
    )
    assert values["PROXY"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://shop.example"]
    assert values["SECURE_SSL_REDIRECT"] is False


@pytest.mark.parametrize(
    "path", ["/", "/admin/login/", "/no-such-page/", "/static/css/site.css", "/bands"]
)
@pytest.mark.django_db
def test_security_headers_on_every_response(client, path):
    """Pages, errors, static files (served by WhiteNoise) and slash redirects alike."""
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_https_redirect_and_hsts_when_enabled(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/bands/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/bands/"
    assert "max-age=31536000" in client.get("/bands/", secure=True)["Strict-Transport-Security"]
    assert client.get("/healthz").status_code == 200  # probes stay on plain HTTP


@pytest.mark.urls("listings.tests.urls_boom")
@pytest.mark.django_db
def test_server_error_gets_the_sites_500_page_and_a_log_line(client, caplog):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "boom" not in response.text  # no stack trace for visitors
    assert "Internal Server Error: /boom/" in caplog.text


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "database_url",
    ["sqlite:////nonexistent-dir/merchex.sqlite3", "postgres://merchex@127.0.0.1:1/merchex"],
)
def test_healthz_answers_503_when_the_database_does_not(manage, database_url):
    probe = (
        "from django.test import Client; r = Client().get('/healthz'); "
        "print(r.status_code, r.content.decode().strip())"
    )
    result = manage(
        "shell", "--no-imports", "-c", probe, env={"DATABASE_URL": database_url}, check=True
    )
    assert result.stdout.strip().endswith("503 database unavailable")
    assert "Traceback" not in result.stdout
    assert "merchex@" not in result.stdout.splitlines()[-1]


def test_sqlite_is_tuned_for_a_small_deployment(manage):
    probe = (
        "from django.db import connection as c; cur = c.cursor(); "
        "print(cur.execute('PRAGMA journal_mode').fetchone()[0], "
        "cur.execute('PRAGMA busy_timeout').fetchone()[0], "
        "cur.execute('PRAGMA synchronous').fetchone()[0], c.transaction_mode)"
    )
    result = manage("shell", "--no-imports", "-c", probe, check=True)
    assert result.stdout.split() == ["wal", "20000", "1", "IMMEDIATE"]


CONCURRENT_WRITES = """
import threading
from django.db import transaction
from listings.models import Band
errors = []
def work(n):
    try:
        for i in range(25):
            with transaction.atomic():
                band = Band.objects.create(name=f"Band {n}-{i}", genre="RO", year_formed=2000)
                band.active = False
                band.save()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(Band.objects.filter(active=False).count(), errors)
"""


def test_concurrent_sqlite_writers_queue_instead_of_failing(manage):
    manage("migrate", "--noinput", check=True)
    result = manage("shell", "--no-imports", "-c", CONCURRENT_WRITES, check=True)
    assert result.stdout.strip() == "100 []"


def test_static_files_resolve_after_collectstatic(manage, tmp_path):
    manage("collectstatic", "--noinput", check=True)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/site.css"]
    assert (tmp_path / "static" / (hashed_css + ".gz")).is_file()
    probe = (
        "from django.test import Client; c = Client(); "
        "page = c.get('/healthz', secure=True); "
        f"css = c.get('/static/{hashed_css}', secure=True); "
        "print(page.status_code, css.status_code, css['Cache-Control'])"
    )
    result = manage("shell", "--no-imports", "-c", probe, check=True)
    status, css_status, cache_control = result.stdout.strip().split(" ", 2)
    assert (status, css_status) == ("200", "200")
    assert "max-age=315360000" in cache_control
    assert "immutable" in cache_control


@pytest.mark.django_db
def test_a_dump_of_the_demo_data_loads_back_with_nothing_lost(client, tmp_path):
    call_command("loaddemo", bands=5, listings=40, verbosity=0)

    def snapshot():
        return (
            list(Band.objects.order_by("pk").values()),
            list(Listing.objects.order_by("pk").values()),
        )

    before = snapshot()
    # XML keeps timestamps to the microsecond; Django's JSON serializer cuts them to milliseconds.
    dump = tmp_path / "merchex.xml"
    call_command("dumpdata", "listings", format="xml", output=str(dump), stdout=StringIO())
    Listing.objects.all().delete()  # as a new database would be: no merch
    Band.objects.all().delete()
    assert snapshot() == ([], [])
    call_command("loaddata", str(dump), stdout=StringIO())
    assert snapshot() == before
    assert client.get("/listings/").status_code == 200


def serve(tmp_path, port):
    return subprocess.Popen(
        ["scripts/serve"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),  # where gunicorn would put a shared control socket
            "PYTHON": sys.executable,
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "DJANGO_HTTPS": "false",
            "DJANGO_SECRET_KEY": "serve-test-" + "s3cr3t" * 10,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_production_serve_command_serves_pages_and_static_files(tmp_path):
    port, other_port = free_port(), free_port()
    server = serve(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        if not wait_until_healthy(base):
            pytest.fail("gunicorn did not answer /healthz")
        # A second instance of the same user starts beside it without taking anything over.
        other = serve(tmp_path, other_port)
        try:
            assert wait_until_healthy(f"http://127.0.0.1:{other_port}")
        finally:
            other.terminate()
            other.communicate(timeout=30)
        assert wait_until_healthy(base, seconds=5)
        assert not (tmp_path / ".gunicorn").exists()  # no control socket at all
        with urllib.request.urlopen(f"{base}/bands/", timeout=5) as response:
            page = response.read().decode()
        css = page.split('rel="stylesheet" href="')[1].split('"')[0]
        assert css.startswith("/static/css/site.")
        assert css != "/static/css/site.css"
        with urllib.request.urlopen(base + css, timeout=5) as response:
            assert response.status == 200
            assert "immutable" in response.headers["Cache-Control"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert '"GET /bands/ HTTP/1.1" 200' in output


LOST_CONNECTION_PROBE = r"""
import json
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import RequestFactory
from listings.models import Band

call_command("migrate", verbosity=0)
band = Band.objects.create(name="Lost Connection", genre="RK", year_formed=1999)
application = get_wsgi_application()
statuses = []


def get(path):
    # The whole production request cycle: request_started health-checks persistent connections.
    environ = RequestFactory().get(path).environ
    b"".join(application(environ, lambda status, headers: statuses.append(status)))
    return int(statuses[-1].split()[0]), connection.connection.info.backend_pid


def lose(pid):
    # What a database restart or a dropped network does to the connection.
    other = connection.get_new_connection(connection.get_connection_params())
    other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    other.close()


seen = {"first": get(band.get_absolute_url()), "again": get(band.get_absolute_url())}
lose(seen["again"][1])
seen["after loss"] = get(band.get_absolute_url())
lose(seen["after loss"][1])
seen["healthz after loss"] = get("/healthz")
print(json.dumps(seen))
"""


def test_fan_pages_and_health_checks_survive_a_lost_postgresql_connection(manage):
    """Persistent connections are health-checked at each request (CONN_HEALTH_CHECKS). On a
    real PostgreSQL server (started by scripts/postgres), kill the connection between requests:
    the next page still answers (rendered each time: a cached page needs no connection)."""
    env = {
        "MERCHEX_PAGE_CACHE": "false",
        "DJANGO_HTTPS": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_MANIFEST": "false",
        "CACHE_URL": "locmemcache://",
    }
    result = manage(
        "shell", "--no-imports", "-c", LOST_CONNECTION_PROBE, env=env, postgres=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert {status for status, _ in seen.values()} == {200}
    pids = {name: pid for name, (_, pid) in seen.items()}
    assert pids["first"] == pids["again"]  # a healthy connection is kept
    assert pids["after loss"] != pids["again"]  # a lost one is replaced, and the page answers
    assert pids["healthz after loss"] != pids["after loss"]


def test_behind_nginx_pictures_come_from_disk_and_pages_from_gunicorn(tmp_path):
    """The README's nginx locations (docs/nginx/merchex-locations.conf, used here as shipped
    but for its paths) in front of `make serve`: renditions are read from disk by nginx with a
    year's cache headers, masters are not served, and no picture passes through gunicorn."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PYTHON": sys.executable,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_HTTPS": "false",
        "DJANGO_SECRET_KEY": "nginx-test-" + "s3cr3t" * 10,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    base_dir = settings.BASE_DIR
    for command in (["migrate", "-v0"], ["loaddemo", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=base_dir, env=env, check=True)
    gunicorn_port = free_port()
    server = subprocess.Popen(
        ["scripts/serve"],
        cwd=base_dir,
        env={**env, "PORT": str(gunicorn_port), "WEB_CONCURRENCY": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Nginx(base_dir, tmp_path, tmp_path / "media", gunicorn_port) as nginx:
            if not wait_until_healthy(nginx.base):
                pytest.fail("nginx and gunicorn did not answer")
            with urllib.request.urlopen(f"{nginx.base}/listings/", timeout=5) as response:
                page = response.read().decode()
            gzipped = urllib.request.Request(
                f"{nginx.base}/listings/", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(gzipped, timeout=5) as response:
                assert response.headers["Content-Encoding"] == "gzip"  # nginx compresses pages
                assert gzip.decompress(response.read()).decode() == page
            rendition = re.search(r'src="(/media/pictures/[0-9a-f]{32}-640\.jpg)"', page).group(1)
            with urllib.request.urlopen(nginx.base + rendition, timeout=5) as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "image/jpeg"
                assert "immutable" in response.headers["Cache-Control"]
                assert response.read(3) == b"\xff\xd8\xff"
            master = re.sub(r"-640\.jpg$", ".jpg", rendition)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(nginx.base + master, timeout=5)
            assert refused.value.code == 404
            # A flood of sign-in attempts: past a burst of 5, nginx answers 429 itself.
            statuses = []
            for _ in range(12):
                attempt = urllib.request.Request(
                    f"{nginx.base}/admin/login/", data=b"username=a&password=b", method="POST"
                )
                try:
                    urllib.request.urlopen(attempt, timeout=5)
                except urllib.error.HTTPError as answer:
                    statuses.append(answer.code)
            assert statuses.count(429) >= 6, statuses
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert '"GET /listings/ HTTP/1.0" 200' in output  # the page came from gunicorn...
    assert "/media/" not in output  # ...and no picture did
