import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from listings.tests.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORTS
from listings.tests.factories import BandFactory, ListingFactory
from listings.tests.servers import free_port


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no cached pages, versions or counts."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Each test stores pictures in a folder of its own, removed with the test run."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def band(db):
    return BandFactory(name="De La Soul", genre="HH", year_formed=1988)


@pytest.fixture
def listing(band):
    return ListingFactory(title="De La Soul tour poster", band=band, type="Posters")


@pytest.fixture
def make_catalogue(db):
    """Build `bands` bands with `per_band` listings each, plus a few orphans."""

    def make(bands, per_band):
        made = BandFactory.create_batch(bands)
        for b in made:
            ListingFactory.create_batch(per_band, band=b)
        ListingFactory.create_batch(2, band=None)
        return made

    return make


BASE_DIR = Path(__file__).resolve().parent
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "prod-like-secret-key-" + "k3y" * 20,
    "DJANGO_ALLOWED_HOSTS": "shop.example,testserver",
}


@pytest.fixture
def manage(tmp_path):
    """Run `manage.py ARGS` in a fresh process with a production-like environment.

    Only PATH and HOME come from the caller, so the pytest settings (DEBUG, HTTPS off...) do not
    leak in; `env` adds to or removes from (value None) the production environment. With
    `postgres=True` the command runs against a throwaway PostgreSQL server (scripts/postgres),
    which also lets it stop and start that server (MERCHEX_PG_STOP / MERCHEX_PG_START).
    """

    def run(*args, env=None, check=False, timeout=120, postgres=False):
        environment = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            **PRODUCTION_ENV,
        }
        for key, value in (env or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        command = [sys.executable, "manage.py", *args]
        if postgres:
            command = ["scripts/postgres", *command]
        return subprocess.run(
            command,
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    return run


# Browser tests (pytest-playwright): Debian's Chromium, not a downloaded browser build.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server (Debian's redis-server) on 127.0.0.1, for this test session only."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=list(VIEWPORTS))
def audit_page(request, browser):
    """A page at a phone's and a laptop's width; CSP bypassed only so that axe-core can be
    injected."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], bypass_csp=True)
    yield context.new_page()
    context.close()
