from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"

    def ready(self) -> None:
        from core import navigation
        from evaluations import access
        from releases import receivers

        receivers.connect()
        navigation.register(
            navigation.NavItem("Releases", "releases:index", access.READ_RULE, order=30)
        )
