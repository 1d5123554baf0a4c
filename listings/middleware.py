"""What a request does when the database pushes back: retry a conflict, degrade in an outage."""

import contextlib
import logging
import random
import threading
import time

from django.db import InterfaceError, OperationalError, connection, transaction
from django.shortcuts import render

logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure; SQLite's busy writer.
CONFLICT_SQLSTATES = {"40P01", "40001"}
SQLITE_CONFLICTS = ("database is locked", "database table is locked")
RETRY_AFTER_SECONDS = 10


def is_conflict(exc):
    """Whether the database refused `exc`'s transaction only because another one got in its way:
    the same work, tried again, will succeed."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    # SQLite: another connection holds the write lock (SQLITE_BUSY, "database is locked"), or
    # in a shared cache, as the in-memory test database is, the table (SQLITE_LOCKED, "database
    # table is locked", raised at once, without waiting out the busy timeout).
    return any(text in str(exc) for text in SQLITE_CONFLICTS)


def run_with_retry(work, *, attempts=4, atomic=True):
    """Run `work()` in one transaction (or as it is, with `atomic=False`), again from the start
    if it lost a conflict (bounded, with a short random pause so the two sides do not collide
    again)."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                return work()
        except OperationalError as exc:
            if attempt == attempts or not is_conflict(exc):
                raise
            logger.warning("conflict, attempt %d of %d: %s", attempt, attempts, exc.__cause__)
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


class RetryConflictsMiddleware:
    """Writes (POST and the like) run in one transaction, retried whole if the database reports
    a deadlock or serialization failure, rather than answered with a 500 and the edit lost.

    Messages the view queued in a failed attempt are dropped with it. On SQLite the view runs
    without that outer transaction (transactions there take the single write lock at BEGIN,
    which a request-long one would hold through a password check or an email) and is retried
    when it meets a busy lock: the admin's writes are single statements or atomic already.
    """

    SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        database = transaction.get_connection()
        if request.method in self.SAFE_METHODS or database.in_atomic_block:
            return None
        storage = getattr(request, "_messages", None)
        queued = list(getattr(storage, "_queued_messages", []))

        def attempt():
            if storage is not None:
                storage._queued_messages[:] = queued
            return view(request, *args, **kwargs)

        try:
            return run_with_retry(attempt, atomic=database.vendor != "sqlite")
        except (OperationalError, InterfaceError) as exc:
            # Raised here, outside the view, it would skip process_exception: answer it now.
            response = database_error_response(request, exc)
            if response is None:
                raise
            return response


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

    Fan pages try their last cached copy first (listings.caching.fan_page); this catches the
    rest. Only connection-level errors count: a bad query is still a bug, and still a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_error_response(request, exception)


def database_error_response(request, exc):
    """The 503 for a database that cannot be reached (or still conflicts after every retry);
    None for any other error, which is a bug and stays a logged 500."""
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
