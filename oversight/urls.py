from django.urls import path, re_path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/events.csv", views.audit_csv, name="audit-csv"),
    path("audit/export/", views.audit_export, name="audit-export"),
    path("audit/<int:seq>/", views.audit_detail, name="audit-detail"),
    path("audit/signatures/<int:pk>/", views.signature_detail, name="signature"),
    re_path(
        r"^audit/signatures/(?P<pk>[0-9]+)/(?P<kind>manifest\.json|signature\.bin)$",
        views.signature_download,
        name="signature-download",
    ),
    path("audit/decisions/<int:pk>/", views.decision_detail, name="decision"),
    path("audit/register/", views.register_as_of, name="register-as-of"),
    path("audit/releases/<int:pk>/", views.release_as_of, name="release-as-of"),
    path("obligations/", views.obligations_page, name="obligations"),
]
