"""Rate limits for the contact form, kept in the shared cache so they hold across workers.

Messages from one address (MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR), and messages in all
(MERCHEX_CONTACT_PER_HOUR: a last guard against a flood from many addresses, well above what a
shop's inbox gets). Each counts the last hour as a sliding window (this hour's count, plus last
hour's weighted by how much of it is still inside the hour, rounded up), so no burst slips
through at the turn of the hour; a refused message counts for nobody. The address is the one
django-axes uses for sign-ins: REMOTE_ADDR unless a proxy is trusted.
"""

import math
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache

HOUR = 60 * 60


def contact_retry_after(request):
    """Count one message about to be sent: None if it may go, else the seconds until it may."""
    now = time.time()
    address = get_client_ip_address(request) or "unknown"
    limits = [
        (f"contact:{address}", settings.MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR),
        ("contact:all", settings.MERCHEX_CONTACT_PER_HOUR),
    ]
    waits = [seconds_to_wait(name, limit, now) for name, limit in limits]
    if any(waits):
        return max(waits)
    hour = int(now // HOUR)
    for name, _ in limits:
        key = f"limit:{name}:{hour}"
        cache.add(key, 0, 2 * HOUR)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, 2 * HOUR)
    return None


def seconds_to_wait(name, limit, now):
    """0 while fewer than `limit` messages were sent in the hour up to `now`; else how long
    until one more may go."""
    hour, into = int(now // HOUR), (now % HOUR) / HOUR
    counts = cache.get_many([f"limit:{name}:{hour}", f"limit:{name}:{hour - 1}"])
    current = counts.get(f"limit:{name}:{hour}", 0)
    previous = counts.get(f"limit:{name}:{hour - 1}", 0)
    if math.ceil(previous * (1 - into)) + current < limit:
        return 0
    if current >= limit:  # next hour, once this hour's weight is down far enough
        return math.ceil((1 - into) * HOUR + (1 - (limit - 1) / current) * HOUR) + 1
    return math.ceil((1 - (limit - current - 1) / previous - into) * HOUR) + 1
