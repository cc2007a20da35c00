from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Account security"

    def ready(self) -> None:
        # The errors and their LoginRadius rows register here, before any request.
        from security import (  # noqa: F401
            audit_actions,
            commands,
            errors,
            signin_audit_actions,
            subscribers,
        )
        from security.api import lr_errors  # noqa: F401

        subscribers.subscribe()

        from accounts.extensions import ProfileField, register_profile_field, register_search_filter
        from security import selectors

        register_search_filter("has_mfa", selectors.account_ids_by_mfa)
        register_search_filter("locked", selectors.account_ids_locked)
        # The profile's sign-in lock, loaded with the account like the other profile fields.
        for key, show in (
            ("IsLoginLocked", selectors.lockout_profile_is_locked),
            ("LoginLockedType", selectors.lockout_profile_type),
        ):
            register_profile_field(
                ProfileField(
                    key=key,
                    sql=selectors.lockout_profile_sql,
                    load=selectors.lockout_profile_load,
                    show=show,
                    related=selectors.LOCKOUT_RELATION,
                )
            )
