from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.home, name="home"),
    path("bands/", views.band_list, name="band-list"),
    path("bands/<int:band_id>/", views.band_detail, name="band-detail"),
    path("listings/", views.listing_list, name="listing-list"),
    path("listings/<int:listing_id>/", views.listing_detail, name="listing-detail"),
    path("healthz", views.healthz, name="healthz"),
]
