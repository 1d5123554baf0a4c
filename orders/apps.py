from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    """Selling: the cart, checkout, payment through Stripe, and the orders staff fulfil. Apart
    from the catalogue (listings), which it reads and never the other way round."""

    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from listings.roles import sync_shop_staff
        from orders import models  # noqa: F401  (signal receivers)

        # Once Django made this app's permissions: the "Shop staff" group may ship orders.
        post_migrate.connect(sync_shop_staff, sender=self, dispatch_uid="merchex-orders-staff")
