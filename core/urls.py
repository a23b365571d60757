from django.urls import path

from core import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/<int:seq>/", views.audit_detail, name="audit-detail"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("healthz", views.healthz, name="healthz"),
]
