from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "oversight"

    def ready(self) -> None:
        from core import dashboard, navigation
        from oversight import access, selectors

        dashboard.register(
            dashboard.Panel(
                "oversight/dashboard_panel.html", access.AUDIT_RULE, selectors.dashboard, order=50
            )
        )
        navigation.register(
            navigation.NavItem("Obligations", "oversight:obligations", access.AUDIT_RULE, order=75)
        )
        navigation.register(
            navigation.NavItem("Audit trail", "oversight:audit-list", access.AUDIT_RULE, order=80)
        )
