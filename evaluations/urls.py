from django.urls import path

from evaluations import views

app_name = "evaluations"

urlpatterns = [
    path("", views.model_index, name="index"),
    path("new/", views.model_new, name="model-new"),
    path("evaluations/", views.evaluation_index, name="evaluations"),
    path("evaluations/new/", views.evaluation_new, name="evaluation-new"),
    path("evaluations/<str:key>/", views.evaluation_detail, name="evaluation"),
    path("versions/<str:label>/", views.model_version_detail, name="version"),
    path("versions/<str:label>/override/", views.override_new, name="override-new"),
    path("import/", views.import_new, name="import-new"),
    path("imports/<uuid:job_id>/", views.import_detail, name="import"),
    path("imports/<uuid:job_id>/status/", views.import_status, name="import-status"),
    path("<slug:slug>/", views.model_detail, name="model"),
    path("<slug:slug>/versions/new/", views.model_version_new, name="version-new"),
]
