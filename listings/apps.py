from django.apps import AppConfig
from django.db.backends.signals import connection_created


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
        connection_created.connect(register_sqlite_functions, dispatch_uid="merchex-sqlite-fold")
