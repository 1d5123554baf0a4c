from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.home, name="home"),
    path("bands/", views.band_list, name="band-list"),
    path("bands/<int:band_id>-<str:slug>/", views.band_detail, name="band-detail"),
    path("bands/<int:band_id>/", views.band_detail),  # answers 301 to the canonical URL
    path("listings/", views.listing_list, name="listing-list"),
    path("listings/<int:listing_id>-<str:slug>/", views.listing_detail, name="listing-detail"),
    path("listings/<int:listing_id>/", views.listing_detail),  # answers 301 to the canonical URL
    path("search/", views.search, name="search"),
    path("info/<slug:slug>/", views.info_page, name="info-page"),
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("healthz", views.healthz, name="healthz"),
]
