"""Rate limits for the contact form, kept in the shared cache so they hold across workers.

Two fixed hourly windows: messages from one address (MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR) and
messages in all (MERCHEX_CONTACT_PER_HOUR, a ceiling on the mail the shop can be sent). The
address is the one django-axes uses for sign-ins: REMOTE_ADDR unless a proxy is trusted.
"""

import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache

WINDOW = 60 * 60


def contact_retry_after(request):
    """Count one message about to be sent; None if it may go, else the seconds until it may."""
    now = time.time()
    window = int(now // WINDOW)
    address = get_client_ip_address(request) or "unknown"
    limits = [
        (f"limit:contact:{window}:{address}", settings.MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR),
        (f"limit:contact:{window}:all", settings.MERCHEX_CONTACT_PER_HOUR),
    ]
    over = False
    for key, limit in limits:
        cache.add(key, 0, WINDOW)
        try:
            count = cache.incr(key)
        except ValueError:  # the entry expired between add() and incr()
            cache.set(key, 1, WINDOW)
            count = 1
        over = over or count > limit
    return int(WINDOW - now % WINDOW) + 1 if over else None
