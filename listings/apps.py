from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django_otp.plugins.otp_static import apps as static_apps
from django_otp.plugins.otp_totp import apps as totp_apps


def register_sqlite_functions(sender, connection, **kwargs):
    """SQLite has no unaccent(): give it merchex's own accent folding for search."""
    if connection.vendor == "sqlite":
        from listings.models import fold

        connection.connection.create_function("MERCHEX_FOLD", 1, fold, deterministic=True)


class ListingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "listings"
    verbose_name = "Bands and merch"

    def ready(self):
        from listings import checks  # noqa: F401 (registers the deploy checks)

        connection_created.connect(register_sqlite_functions, dispatch_uid="merchex-sqlite-fold")
        # After Django has created this app's permissions (auth's own post_migrate handler).
        # Then: the search index's triggers (a rebuilt SQLite table loses them) and the
        # "Shop staff" group, both brought in step with the models; cached pages made afresh.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="merchex-after-migrate")
        pre_migrate.connect(before_migrate, sender=self, dispatch_uid="merchex-before-migrate")


def before_migrate(using, **kwargs):
    from django.db import connections

    from listings import triggers

    triggers.uninstall(connections[using])


def after_migrate(using, plan=None, **kwargs):
    from django.db import connections

    from listings import caching, triggers
    from listings.roles import sync_shop_staff

    connection = connections[using]
    if plan:  # migrations ran, with no trigger watching: the search index may be behind
        triggers.refresh_search(connection)
    triggers.install(connection)
    caching.bump_everything()
    sync_shop_staff()


class MerchexAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on merchex's site: two-factor sign-in for staff (listings.sites)."""

    default = False  # ListingsConfig stays this module's app; this one is named in settings
    default_site = "listings.sites.MerchexAdminSite"


# The sign-in security apps, under names staff can read in the admin (superusers only: other
# staff have no permission on them).
class SignInLockoutsConfig(axes_apps.AppConfig):
    default = False
    verbose_name = "Sign-in security: failed sign-ins and lockouts"


class AuthenticatorsConfig(totp_apps.DefaultConfig):
    default = False
    verbose_name = "Sign-in security: authenticator apps"


class BackupCodesConfig(static_apps.DefaultConfig):
    default = False
    verbose_name = "Sign-in security: backup codes"
