from django.urls import path

from core import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("healthz", views.healthz, name="healthz"),
]
