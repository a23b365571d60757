from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"

    def ready(self) -> None:
        from core import navigation
        from evaluations import access
        from releases import receivers

        receivers.connect()
        from core import dashboard
        from releases import selectors

        dashboard.register(
            dashboard.Panel(
                "releases/dashboard_panel.html", access.READ_RULE, selectors.dashboard, order=10
            )
        )
        navigation.register(
            navigation.NavItem("Releases", "releases:index", access.READ_RULE, order=30)
        )
