from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Commitment register"

    def ready(self) -> None:
        from core import navigation
        from governance import access

        navigation.register(
            navigation.NavItem("Register", "governance:index", access.READ, order=10)
        )
