from django.urls import path

from releases import views

app_name = "releases"

urlpatterns = [
    path("", views.release_index, name="index"),
    path("new/", views.release_new, name="release-new"),
    path("<int:pk>/", views.release_detail, name="release"),
    path("<int:pk>/submit/", views.release_submit, name="submit"),
    path("<int:pk>/deploy/", views.release_deploy, name="deploy"),
    path("<int:pk>/withdraw/", views.release_withdraw, name="withdraw"),
    path("<int:pk>/safeguards/<str:code>/implement/", views.safeguard_implement, name="implement"),
    path("<int:pk>/safeguards/<str:code>/verify/", views.safeguard_verify, name="verify"),
    path("<int:pk>/safeguards/<str:code>/evidence/", views.evidence_file, name="evidence"),
    path("<int:pk>/approve/", views.release_approve, name="approve"),
    path("<int:pk>/decisions/", views.decision_propose, name="decision-propose"),
    path("<int:pk>/decisions/<int:decision_pk>/sign/", views.decision_sign, name="decision-sign"),
    path("<int:pk>/decisions/<int:decision_pk>/lift/", views.decision_lift, name="decision-lift"),
]
