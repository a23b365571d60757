from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Commitment register"

    def ready(self) -> None:
        from core import audit, integrity, navigation
        from governance import access
        from governance import integrity as register_integrity

        # The register is read by everyone who reads the history, scoped or not.
        for label in ("governance.policy", "governance.policyversion"):
            audit.register_scope(label, lambda obj: audit.SHARED_SCOPE)

        integrity.register("register integrity", register_integrity.check_published)
        integrity.register_named_in_signed_content(register_integrity.designated_in_signed_content)
        navigation.register(
            navigation.NavItem("Register", "governance:index", access.READ, order=10)
        )
