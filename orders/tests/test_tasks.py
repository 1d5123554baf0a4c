"""Emails leave the request: queued in the database (the default backend) and sent by its
worker, as `make serve` runs it."""

import pytest
from django.core import mail
from django.core.management import call_command

from listings.tasks import contact_email

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_email_waits_in_the_database_until_the_worker_sends_it(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = contact_email.enqueue("[merchex] Hello", "A message.", "fan@example.com")
    assert mail.outbox == []  # not sent by the request
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL"
    assert [message.subject for message in mail.outbox] == ["[merchex] Hello"]
    assert mail.outbox[0].reply_to == ["fan@example.com"]
