from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Scaling governance console"
admin.site.site_title = "Scaling governance"
admin.site.index_title = "Console"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("register/", include("governance.urls")),
    path("models/", include("evaluations.urls")),
    path("releases/", include("releases.urls")),
    path("api/v1/", include(("config.api_urls", "api"))),
    path("", include("oversight.urls")),
    path("", include("core.urls")),
]

handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
