from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "merchex administration"
admin.site.site_title = "merchex admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("listings.urls")),
]
