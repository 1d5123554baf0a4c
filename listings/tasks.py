"""Work done off the request by the task worker (settings.TASKS)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task


@task()
def contact_email(subject, body, reply_to):
    """A fan's message from the contact form, to the shop."""
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[settings.MERCHEX_CONTACT_EMAIL],
        reply_to=[reply_to],
    ).send()
