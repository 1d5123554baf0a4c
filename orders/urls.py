from django.urls import path

from orders import views

app_name = "orders"

# A reference is in token_urlsafe's alphabet (a slug): anything else is no order, a 404.
urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/add/<int:listing_id>/", views.cart_add, name="cart-add"),
    path("cart/update/", views.cart_update, name="cart-update"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/<slug:reference>/pay/", views.pay, name="pay"),
    path("checkout/<slug:reference>/pay/card/", views.pay_card, name="pay-card"),
    path("checkout/<slug:reference>/cancel/", views.cancel, name="cancel"),
    path("orders/<slug:reference>/", views.order, name="order"),
    path("stripe/webhook/", views.webhook, name="stripe-webhook"),
]
