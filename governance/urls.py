from django.urls import path, register_converter

from governance import views, views_edit


class KindConverter:
    regex = "|".join(views_edit.KINDS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(KindConverter, "kind")

app_name = "governance"
version = "<slug:slug>/v<int:number>/"

urlpatterns = [
    path("", views.register_index, name="index"),
    path("new/", views_edit.policy_new, name="policy-new"),
    path("import/", views_edit.policy_import, name="import"),
    path("<slug:slug>/", views.policy_detail, name="policy"),
    path("<slug:slug>/draft/", views_edit.draft_start, name="draft-start"),
    path(version, views.version_detail, name="version"),
    path(f"{version}settings/", views_edit.version_settings, name="version-settings"),
    path(f"{version}discard/", views_edit.draft_discard, name="draft-discard"),
    path(f"{version}sign/", views_edit.version_sign, name="version-sign"),
    path(f"{version}diff/", views.version_diff, name="version-diff"),
    path(f"{version}export.yaml", views.version_export, name="version-export"),
    path(
        f"{version}signatures/<int:pk>/manifest.json",
        views.signature_manifest,
        name="signature-manifest",
    ),
    path(
        f"{version}signatures/<int:pk>/signature.bin", views.signature_file, name="signature-file"
    ),
    path(f"{version}<kind:kind>/add/", views_edit.item_add, name="item-add"),
    path(f"{version}<kind:kind>/<int:pk>/edit/", views_edit.item_edit, name="item-edit"),
    path(f"{version}<kind:kind>/<int:pk>/delete/", views_edit.item_delete, name="item-delete"),
]
