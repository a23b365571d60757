from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"

    def ready(self) -> None:
        from core import audit, navigation
        from evaluations import access, receivers

        receivers.connect()
        # Events filed under a model or one of its versions concern that model.
        audit.register_scope("evaluations.model", lambda model: model.pk)
        audit.register_scope("evaluations.modelversion", lambda version: version.model_id)
        navigation.register(
            navigation.NavItem("Models", "evaluations:index", access.READ_RULE, order=20)
        )
