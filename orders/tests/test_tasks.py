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


def test_several_machines_may_queue_emails_on_redis_for_an_rq_worker(manage, redis_url, tmp_path):
    """The RQ backend (README: several machines): one process queues, a worker sends."""
    env = {
        "MERCHEX_TASKS_BACKEND": "django_tasks_rq.RQBackend",
        "MERCHEX_RQ_URL": redis_url,
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",  # absolute: 3 slashes, then its own
        "DJANGO_HTTPS": "false",
    }
    manage("migrate", "--verbosity", "0", env=env, check=True)
    queue = (
        "from listings.tasks import contact_email; "
        "print(contact_email.enqueue('[merchex] Over Redis', 'Hello.', 'fan@example.com').id)"
    )
    manage("shell", "--no-imports", "-c", queue, env=env, check=True)
    assert not (tmp_path / "mail").exists()  # queued, not sent
    manage("rqworker", "--burst", "--job-class", "django_tasks_rq.Job", env=env, check=True)
    [sent] = (tmp_path / "mail").iterdir()
    assert "Subject: [merchex] Over Redis" in sent.read_text()
