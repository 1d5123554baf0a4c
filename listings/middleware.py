"""What a request gets when the database cannot answer: a styled 503, never a 500."""

import logging
import threading
import time

from django.db import InterfaceError, OperationalError, connection
from django.shortcuts import render

logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure; SQLite's busy writer.
CONFLICT_SQLSTATES = {"40P01", "40001"}
SQLITE_CONFLICTS = ("database is locked", "database table is locked")
RETRY_AFTER_SECONDS = 10


def is_conflict(exc):
    """Whether the database refused `exc`'s transaction only because another one got in its way:
    the same work, tried again soon, will succeed (a 503 with Retry-After says so)."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    # SQLite: another connection holds the write lock (SQLITE_BUSY, "database is locked"), or
    # in a shared cache, as the in-memory test database is, the table (SQLITE_LOCKED, "database
    # table is locked", raised at once, without waiting out the busy timeout).
    return any(text in str(exc) for text in SQLITE_CONFLICTS)


class Outage:
    """Whether this process has found the database unreachable: logged once when an outage
    starts and once when it ends, not a traceback per request."""

    def __init__(self):
        self.since = None
        self.lock = threading.Lock()

    def failed(self, exc):
        with self.lock:
            if self.since is None:
                self.since = time.monotonic()
                logger.error(
                    "database unavailable (%s): serving cached pages and 503s until it answers",
                    exc.__class__.__name__,
                )

    def answered(self):
        if self.since is None:  # the usual case: no lock taken
            return
        with self.lock:
            if self.since is not None:
                logger.warning(
                    "database available again after %.1f s", time.monotonic() - self.since
                )
                self.since = None


outage = Outage()


def unavailable(request):
    """The site's own 503 page: the shop is briefly unable to reach its data."""
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """A request that cannot reach the database gets a styled 503 with Retry-After, not a 500.

    Cached fan pages need no database (listings.caching); this catches the rest. Only
    connection-level errors and lost conflicts count: a bad query is still a bug, and a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_error_response(request, exception)


def database_error_response(request, exc):
    """The 503 for a database that cannot be reached, or a conflict lost; None for any other
    error, which is a bug and stays a logged 500."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    if is_conflict(exc):
        return unavailable(request)  # try again soon
    if connection_lost():
        outage.failed(exc)
        return unavailable(request)
    return None


def connection_lost():
    """Whether the last database error left no usable connection (the server is down or gone),
    as opposed to a statement the server refused."""
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False))
