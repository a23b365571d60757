from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from core import navigation
        from evaluations import access, receivers

        receivers.connect()
        navigation.register(
            navigation.NavItem("Models", "evaluations:index", access.READ_RULE, order=20)
        )
