from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"

    def ready(self) -> None:
        from core import audit, dashboard, navigation, signing
        from evaluations import access
        from releases import receivers, selectors
        from releases.models import model_id_of

        receivers.connect()
        # Events filed under a release or a decision concern the release's model.
        audit.register_scope("releases.release", model_id_of)
        audit.register_scope("releases.decision", model_id_of)
        # An approval no longer holds once the release's assessment has changed.
        signing.register_staleness("releases.release", selectors.stale_approval_signatures)
        dashboard.register(
            dashboard.Panel(
                "releases/dashboard_panel.html", access.READ_RULE, selectors.dashboard, order=10
            )
        )
        navigation.register(
            navigation.NavItem("Releases", "releases:index", access.READ_RULE, order=30)
        )
