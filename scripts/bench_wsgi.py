"""The site as gunicorn serves it in production, plus one bare view for the benchmark's baseline.

scripts/bench.py serves this module so that every figure can be divided by what the same
workers achieve for a view that returns HttpResponse("ok") through the same middleware.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchex.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402

application = get_wsgi_application()


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), path("", include("merchex.urls"))]
settings.ROOT_URLCONF = __name__
