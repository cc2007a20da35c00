from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Roles management"

    def ready(self) -> None:
        from accounts.extensions import ProfileField, register_profile_field, register_search_filter
        from roles import audit_actions, commands, selectors  # noqa: F401

        register_profile_field(
            ProfileField(
                key="Roles",
                sql=selectors.account_role_names_sql,
                load=selectors.account_role_names,
                load_many=selectors.accounts_role_names,
            )
        )
        register_search_filter("role", selectors.role_holder_ids)
