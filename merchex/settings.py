"""
Settings for merchex: one module, configured per deployment by the environment.

Every variable is documented in .env.example and in the README's "Deploying" section.
"""

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Secure by default: only the dev command (make run) turns DEBUG on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        # One clear line instead of a traceback: this is an operator's mistake, not a bug.
        sys.exit(
            "merchex: DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(see .env.example), or set DJANGO_DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"
elif not DEBUG and len(SECRET_KEY) < 50:
    sys.exit(f"merchex: DJANGO_SECRET_KEY is {len(SECRET_KEY)} characters long; use 50 or more.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The site's public address, written into every absolute URL (canonical links, sitemaps,
# robots.txt, emails) whatever Host a request names; also part of no cache key. Set it in
# production (e.g. https://merch.example.com); empty: the request's own host (development).
MERCHEX_ORIGIN = env.str("MERCHEX_ORIGIN", default="").rstrip("/")
if MERCHEX_ORIGIN:
    _origin = urlsplit(MERCHEX_ORIGIN)
    if _origin.scheme not in ("http", "https") or not _origin.hostname or _origin.path:
        sys.exit(
            f"merchex: MERCHEX_ORIGIN must be like https://merch.example.com: {MERCHEX_ORIGIN!r}"
        )
    if _origin.hostname not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_origin.hostname)

INSTALLED_APPS = [
    "listings.apps.MerchexAdminConfig",  # Django's admin with two-factor sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "import_export",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "csp",
    "listings.apps.SignInLockoutsConfig",  # axes
    "django_otp",
    "listings.apps.AuthenticatorsConfig",  # django_otp.plugins.otp_totp
    "listings.apps.BackupCodesConfig",  # django_otp.plugins.otp_static
    "django_countries",
    "django_tasks",
    "django_tasks_db",
    "listings",
    "orders",
]

MIDDLEWARE = [
    # The security headers first, so that every response gets them: static files (WhiteNoise
    # answers them itself) and slash redirects (CommonMiddleware) included.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A styled 503 instead of a 500 while the database is unreachable.
    "listings.middleware.DatabaseOutageMiddleware",
    # Answers a locked-out sign-in with the lockout page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "merchex.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "merchex.wsgi.application"

# Database: embedded SQLite by default, PostgreSQL (psycopg 3) through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Ready for a small real deployment: readers never block the writer (WAL), a writer waits
    # for the lock instead of failing, and transactions take the write lock up front so two
    # concurrent admin saves queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Keep connections open between requests (health-checked before reuse): opening one costs more
# than most of the queries a page runs.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache of fan pages and their versions (listings/caching.py), shared by every worker: by
# default diskcache's files on this machine (no server; bounded by MERCHEX_CACHE_MB). Several
# machines must share one, since a version bump must reach them all: CACHE_URL=redis://…
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
else:
    CACHES = {
        "default": {
            "BACKEND": "merchex.cache.DiskCache",
            "LOCATION": env.str("MERCHEX_CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
            "SHARDS": 4,
            "DATABASE_TIMEOUT": 0.05,  # a write that waits longer for a lock is skipped
            "OPTIONS": {"size_limit": env.int("MERCHEX_CACHE_MB", default=512) * 2**20},
        }
    }
CACHES["default"].setdefault("KEY_PREFIX", "merchex")
# Off in development, where templates change under a running server; false: render every page
# (with DJANGO_DEBUG, listing cards too; else they stay cached under their listing's version).
MERCHEX_PAGE_CACHE = env.bool("MERCHEX_PAGE_CACHE", default=not DEBUG)
# Seconds a cached page (and a version) lives: a write made outside merchex (raw SQL, a restored
# backup) shows within this time, or at once after `manage.py clearpages`.
MERCHEX_PAGE_TTL = env.int("MERCHEX_PAGE_TTL", default=600)

# Sign-in lockout (django-axes): after MERCHEX_LOGIN_FAILURE_LIMIT failures for one username, or
# from one address, further attempts are refused for the cool-off period, before any password is
# hashed (the axes backend comes first), even with the right password. Staff unlock in the admin
# (Axes: access attempts) or with `manage.py axes_reset_username NAME` / `axes_reset`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("MERCHEX_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("MERCHEX_LOGIN_COOLOFF_MINUTES", default=15))
# A username from one address: a guesser elsewhere cannot lock the owner out, nor one address
# (a proxy's, when MERCHEX_TRUSTED_PROXIES is unset) lock everyone out. Wrong authenticator
# codes count as failures too (listings/sites.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "listings.views.locked_out"  # the admin's own page, with Retry-After
LOGIN_REDIRECT_URL = "admin:index"  # where a sign-in with a refused ?next= lands
# The client's address: REMOTE_ADDR, unless a proxy in front is trusted to set X-Forwarded-For
# (MERCHEX_TRUSTED_PROXIES = how many proxies add themselves to it); a header a client sends
# itself is never believed otherwise. The contact form's rate limit uses the same address.
TRUSTED_PROXIES = env.int("MERCHEX_TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES
    AXES_IPWARE_PROXY_ORDER = "right-most"

# Two-factor sign-in (listings/sites.py): staff with an authenticator must use it; superusers
# and staff who can change the catalogue must have one when this is on (outside development).
MERCHEX_2FA_FOR_EDITORS = env.bool("MERCHEX_2FA_FOR_EDITORS", default=not DEBUG)
OTP_TOTP_ISSUER = "merchex"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = False  # an English-only shop: no translation machinery on every string
USE_TZ = True

# Static files: served by WhiteNoise, compressed, with hashed names and far-future cache headers.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Development and tests skip collectstatic (DJANGO_STATIC_MANIFEST=false): the finders serve.
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# Uploaded pictures (listings/pictures.py): by default files under MEDIA_ROOT, served at
# MEDIA_URL by the proxy in production (README: Pictures) and by runserver in development.
MEDIA_URL = env.str("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves /media/ itself: for trying `make serve` out without nginx only (slow, unsafe).
MERCHEX_SERVE_MEDIA = env.bool("MERCHEX_SERVE_MEDIA", default=False)
# Several machines: an S3-compatible bucket (django-storages), whose public address (or a CDN's
# in front of it) is DJANGO_MEDIA_URL. Credentials come the usual boto3 way (AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY in the environment, or the machine's role), never from settings.
MEDIA_BUCKET = env.str("MERCHEX_S3_BUCKET", default="")
if MEDIA_BUCKET:
    media = urlsplit(MEDIA_URL)
    if not media.netloc:
        sys.exit(
            "merchex: MERCHEX_S3_BUCKET needs DJANGO_MEDIA_URL to be the bucket's public address, "
            "e.g. https://media.shop.example/"
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_BUCKET,
            "endpoint_url": env.str("MERCHEX_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MERCHEX_S3_REGION", default="") or None,
            # Pages link to the public address: URLs are built as plain strings, unsigned.
            "custom_domain": (media.netloc + media.path).rstrip("/"),
            "url_protocol": f"{media.scheme}:",
            "querystring_auth": False,
            "file_overwrite": False,
            # Every stored name is new (generated), so browsers may keep a file for a year.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
# Spreadsheet import and export in the admin (listings.resources, which neutralises formulas):
# one transaction per import, control characters replaced in XLSX, the largest file accepted.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
MERCHEX_IMPORT_MAX_BYTES = env.int("MERCHEX_IMPORT_MAX_BYTES", default=5_000_000)
# Rows one import takes: 5,000 option counts, saved one by one, take ~18 s (gunicorn stops at 30).
MERCHEX_IMPORT_MAX_ROWS = env.int("MERCHEX_IMPORT_MAX_ROWS", default=5_000)
MERCHEX_UPLOAD_MAX_BYTES = env.int("MERCHEX_UPLOAD_MAX_BYTES", default=15_000_000)
MERCHEX_UPLOAD_MAX_PIXELS = env.int("MERCHEX_UPLOAD_MAX_PIXELS", default=40_000_000)
# Widths of the renditions pages serve (srcset; the largest opens when a picture is clicked),
# each made as WebP and JPEG. After changing them, `manage.py renditions` makes what is missing.
MERCHEX_RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)

# HTTPS: on by default outside development. Behind a TLS-terminating proxy, also set
# DJANGO_SECURE_PROXY_SSL_HEADER=true so Django trusts its X-Forwarded-Proto header.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Carts live in the session: read from the cache, so a fan page with a cart costs no query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_FAILURE_VIEW = "listings.views.csrf_failure"  # the site's own page, not Django's bare one

# Content-Security-Policy (django-csp): no inline or third-party scripts anywhere, admin included.
# Pictures may also come from the bucket or CDN that DJANGO_MEDIA_URL names.
media = urlsplit(MEDIA_URL)
MEDIA_ORIGINS = [f"{media.scheme}://{media.netloc}"] if media.netloc else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *MEDIA_ORIGINS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Logging: one line per record on stdout, easy to grep; request errors name the path.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
        },
    },
    "filters": {
        # A request naming a host we do not serve is a scanner, not a bug: one warning line.
        "one_line": {
            "()": "django.utils.log.CallbackFilter",
            "callback": "ext://merchex.log.one_line",
        },
    },
    "root": {"handlers": ["stdout"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # One line per failed sign-in (username, address), one per lockout.
        "axes": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
        "django.security.DisallowedHost": {
            "handlers": ["stdout"],
            "filters": ["one_line"],
            "propagate": False,
        },
    },
}

# Email: the console by default (development), any SMTP server through EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.com:587
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="merchex <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The shop.
MERCHEX_PAGE_SIZE = 24  # items on one fan page: full rows of 2, 3, 4 or 6 cards
MERCHEX_CURRENCY = env.str("MERCHEX_CURRENCY", default="EUR")  # ISO 4217 code for prices
MERCHEX_CONTACT_EMAIL = env.str("MERCHEX_CONTACT_EMAIL", default="shop@localhost")
# Contact-form rate limits (listings/limits.py), per sliding hour: from one address, and in all
# (a last guard against a flood from many addresses, far above what a small shop receives).
MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR = env.int("MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR", default=5)
MERCHEX_CONTACT_PER_HOUR = env.int("MERCHEX_CONTACT_PER_HOUR", default=300)

# Selling (orders/). Stripe keys come from the environment; without them the shop browses and
# says that checkout is not open. STRIPE_API_BASE and STRIPE_JS_URL point at a Stripe-compatible
# test server (localstripe: make run, the tests).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
MERCHEX_HOME_COUNTRY = env.str(
    "MERCHEX_HOME_COUNTRY", default="FR"
)  # ISO 3166: where it ships from
MERCHEX_HOLD_MINUTES = env.int("MERCHEX_HOLD_MINUTES", default=15)  # stock kept for a checkout
MERCHEX_FEW_LEFT = env.int("MERCHEX_FEW_LEFT", default=5)  # "Only N left" at or under this
MERCHEX_CART_LINES = 50  # different options one cart may hold

# Background tasks (emails): django-tasks with its database backend, whose worker is
# `manage.py db_worker` (make serve starts it); several machines may use the RQ backend on Redis
# (README: Deploying). "django_tasks.backends.immediate.ImmediateBackend" runs them at once.
TASKS = {
    "default": {
        "BACKEND": env.str("MERCHEX_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":  # worker: manage.py rqworker
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": env.str("MERCHEX_RQ_URL", default="redis://127.0.0.1:6379/0")}}
