from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Selling: the cart, checkout, payment through Stripe, and the orders staff fulfil. Apart
    from the catalogue (listings), which it reads and never the other way round."""

    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from orders import models  # noqa: F401  (signal receivers)
