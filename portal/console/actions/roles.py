"""Actions on what the account may do: its roles, and its role contexts with their roles,
permissions and expiry."""

from datetime import UTC, datetime

from django import forms
from django.db import transaction
from django.utils import timezone

from portal.console import selectors
from portal.console.actions.base import (
    AccountAction,
    ActionForm,
    Ctx,
    reason_and_ticket,
    run_or_hold,
)
from portal.console.actions.security import on_account
from portal.console.forms import ContextNameField, ContextNameInput
from roles import selectors as role_selectors
from roles import services as role_services
from roles.commands import (
    AccountRolesAssign,
    AccountRolesUnassign,
    ContextGrant,
    RoleContextDelete,
    RoleContextGrant,
    RoleContextPermissionsRemove,
    RoleContextRolesRemove,
)
from roles.selectors import role_context_version


class RolesForm(ActionForm):
    held_only = False

    def setup(self):
        held = set(selectors.account_roles(account=self.account))
        names = selectors.role_names_of(tenant=self.tenant)
        choices = [(n, n) for n in names if (n in held) == self.held_only]
        self.fields["roles"] = forms.MultipleChoiceField(
            label="Roles",
            choices=choices,
            widget=forms.CheckboxSelectMultiple,
        )


class RolesUnassignForm(RolesForm):
    held_only = True

    @classmethod
    def initial_from(cls, initial: dict, *, account, query) -> dict:
        if query.get("roles"):
            initial["roles"] = query.getlist("roles")
        return initial


def _split(text: str) -> list[str]:
    return [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]


def _expiry_fields(form: ActionForm) -> None:
    """One date-time (UTC) or "Never expires": exactly one of them, checked in `_clean_expiry`."""
    form.fields["expiration"] = forms.DateTimeField(
        label="Expires at (UTC)",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
        ),
        help_text="The grant ends at this moment. Leave it empty only with Never expires.",
    )
    form.fields["never_expires"] = forms.BooleanField(
        label="Never expires", required=False, help_text="The grant lasts until someone removes it."
    )


def _clean_expiry(form: ActionForm, data: dict, *, current: datetime | None = None) -> None:
    """Put in `data["expires"]` what will be stored (None = never), and in `data["keep_expiry"]`
    whether it is the stored one left untouched; a date with "never", or neither, is an error."""
    if "expiration" in form.errors:
        return
    date, never = data.get("expiration"), bool(data.get("never_expires"))
    if date and never:
        form.add_error("never_expires", "Give either an expiry date or Never expires, not both.")
        return
    if not date and not never:
        form.add_error("expiration", "Give the date the context expires at, or tick Never expires.")
        return
    if never:
        data["expires"], data["keep_expiry"] = None, False
        return
    date = date.astimezone(UTC)
    if current is not None and date == current.astimezone(UTC).replace(microsecond=0):
        # The stored date as the form showed it (to the second): keep it exactly.
        data["expires"], data["keep_expiry"] = current, True
        return
    if date <= timezone.now():
        form.add_error(
            "expiration", "This moment is in the past: give a later one, or tick Never expires."
        )
        return
    data["expires"], data["keep_expiry"] = date, False


def _expiry_text(value: datetime | None) -> str:
    return (
        "Never expires"
        if value is None
        else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )


class _ContextFormBase(ActionForm):
    EXPIRY_FIELDS = ("expiration", "never_expires")

    def summary(self) -> list[tuple[str, str]]:
        """The other fields, then the expiry exactly as it will be stored."""
        rows = [
            (label, value)
            for label, value in super().summary()
            if label not in {str(self.fields[n].label) for n in self.EXPIRY_FIELDS}
        ]
        return [*rows, ("Expires", _expiry_text(self.cleaned_data.get("expires")))]


class ContextAddForm(_ContextFormBase):
    """A new role context: its name, roles, permissions and expiry (nothing to remove yet)."""

    def setup(self):
        roles = [(name, name) for name in selectors.role_names_of(tenant=self.tenant)]
        self.fields["context"] = ContextNameField(
            widget=ContextNameInput(
                names=role_selectors.role_context_names_matching(tenant=self.tenant, text="")
            )
        )
        self.fields["create_new"] = forms.BooleanField(
            label="Create a new context",
            required=False,
            help_text="Only for a name the tenant does not use yet: a typo then starts a "
            "context nobody else holds.",
        )
        self.fields["roles"] = forms.MultipleChoiceField(
            label="Roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple
        )
        self.fields["permissions"] = forms.CharField(
            label="Additional permissions", required=False, help_text="Comma-separated."
        )
        _expiry_fields(self)

    def clean_context(self):
        name = self.cleaned_data["context"].strip()
        if any(c.name == name for c in selectors.account_contexts(account=self.account)):
            raise forms.ValidationError(
                f"This account already has a role context named {name}: use its Edit link to change it."
            )
        return name

    def clean(self):
        data = super().clean()
        name = data.get("context")
        if (
            name
            and not data.get("create_new")
            and not role_selectors.role_context_name_exists(tenant=self.tenant, name=name)
        ):
            self.add_error(
                "context",
                f"No role context is named {name} in this tenant: pick one from the list, "
                "or tick Create a new context.",
            )
        _clean_expiry(self, data)
        return data

    def summary(self) -> list[tuple[str, str]]:
        return [
            (label, value) for label, value in super().summary() if label != "Create a new context"
        ]


class ContextForm(_ContextFormBase):
    """An existing role context: add or remove roles and permissions, and set its expiry."""

    @classmethod
    def initial_from(cls, initial: dict, *, account, query) -> dict:
        """The form starts from what is stored: the date to the second, or "never"."""
        if not query.get("context"):
            return initial
        chosen = next(
            (
                c
                for c in selectors.account_contexts(account=account)
                if c.name == query.get("context")
            ),
            None,
        )
        if chosen is not None:
            # The version the form was read at: a context changed since is refused, not
            # overwritten.
            initial["version"] = role_context_version(chosen)
            if chosen.expiration:
                initial["expiration"] = chosen.expiration.astimezone(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S"
                )
            else:
                initial["never_expires"] = True
        return initial

    def setup(self):
        self.contexts = {c.name: c for c in selectors.account_contexts(account=self.account)}
        roles = [(name, name) for name in selectors.role_names_of(tenant=self.tenant)]
        self.fields["context"] = forms.ChoiceField(
            label="Role context",
            choices=[(n, n) for n in self.contexts],
            error_messages={"invalid_choice": "This account has no role context by that name."},
        )
        self.fields["add_roles"] = forms.MultipleChoiceField(
            label="Add roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple
        )
        self.fields["remove_roles"] = forms.MultipleChoiceField(
            label="Remove roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple
        )
        self.fields["add_permissions"] = forms.CharField(
            label="Add permissions", required=False, help_text="Comma-separated."
        )
        self.fields["remove_permissions"] = forms.CharField(
            label="Remove permissions", required=False, help_text="Comma-separated."
        )
        _expiry_fields(self)
        self.fields["version"] = forms.CharField(required=False, widget=forms.HiddenInput)

    def summary(self):
        return [(label, value) for label, value in super().summary() if label != "Version"]

    def clean(self):
        data = super().clean()
        current = self.contexts.get(data.get("context"))
        if current is not None:
            _clean_expiry(self, data, current=current.expiration)
        if set(data.get("add_roles") or []) & set(data.get("remove_roles") or []):
            self.add_error("remove_roles", "A role cannot be added and removed at once.")
        return data


class ContextDeleteForm(ActionForm):
    def setup(self):
        names = [c.name for c in selectors.account_contexts(account=self.account)]
        self.fields["context"] = forms.ChoiceField(
            label="Role context", choices=[(n, n) for n in names]
        )


def run_roles_assign(ctx: Ctx):
    command = AccountRolesAssign(roles=tuple(ctx.data["roles"]), **reason_and_ticket(ctx))
    run_or_hold(ctx, role_services.account_roles_assign, command)


def run_roles_unassign(ctx: Ctx):
    command = AccountRolesUnassign(roles=tuple(ctx.data["roles"]), **reason_and_ticket(ctx))
    role_services.account_roles_unassign(command, **on_account(ctx))


def run_context_add(ctx: Ctx):
    data = ctx.data
    grant = ContextGrant(
        name=data["context"],
        roles=tuple(data.get("roles") or ()),
        additional_permissions=tuple(_split(data.get("permissions"))),
        expiration=data["expires"],
    )
    command = RoleContextGrant(contexts=(grant,), **reason_and_ticket(ctx))
    run_or_hold(ctx, role_services.role_contexts_upsert, command)


def run_context_edit(ctx: Ctx):
    """The grant, then the removals, in one transaction: the grant checks the version the
    form was read at and locks the context, so the removals act on that same version."""
    data = ctx.data
    name, why = data["context"], reason_and_ticket(ctx)
    grant = ContextGrant(
        name=name,
        roles=tuple(data.get("add_roles") or ()),
        additional_permissions=tuple(_split(data.get("add_permissions"))),
        expiration=None if data["keep_expiry"] else data["expires"],
        keep_expiration=bool(data["keep_expiry"]),
        expected_version=data.get("version") or None,
    )
    with transaction.atomic():
        role_services.role_contexts_upsert(
            RoleContextGrant(contexts=(grant,), **why), **on_account(ctx)
        )
        if data.get("remove_roles"):
            role_services.role_context_roles_remove(
                RoleContextRolesRemove(name=name, roles=tuple(data["remove_roles"]), **why),
                **on_account(ctx),
            )
        if _split(data.get("remove_permissions")):
            role_services.role_context_permissions_remove(
                RoleContextPermissionsRemove(
                    name=name, permissions=tuple(_split(data["remove_permissions"])), **why
                ),
                **on_account(ctx),
            )


def run_context_delete(ctx: Ctx):
    command = RoleContextDelete(name=ctx.data["context"], **reason_and_ticket(ctx))
    role_services.role_context_delete(command, **on_account(ctx))


ACTIONS = [
    AccountAction(
        "roles_assign",
        "Assign roles",
        "Assign roles",
        "Gives the account the roles' permissions.",
        "Roles assigned.",
        "roles.manage",
        run_roles_assign,
        RolesForm,
        place="roles",
    ),
    AccountAction(
        "roles_unassign",
        "Unassign roles",
        "Unassign roles",
        "Takes the roles (and their permissions) from the account.",
        "Roles unassigned.",
        "roles.manage",
        run_roles_unassign,
        RolesUnassignForm,
        danger=True,
        place="roles",
        target=("roles",),
    ),
    AccountAction(
        "context_add",
        "Add role context",
        "Add role context",
        "Grants the account roles and permissions within a named context, until the expiry you give.",
        "Role context added.",
        "roles.manage",
        run_context_add,
        ContextAddForm,
        place="contexts",
    ),
    AccountAction(
        "context_edit",
        "Edit role context",
        "Save role context",
        "Changes the context's roles, permissions and expiry.",
        "Role context saved.",
        "roles.manage",
        run_context_edit,
        ContextForm,
        place="context",
        target=("context",),
    ),
    AccountAction(
        "context_delete",
        "Delete",
        "Delete role context",
        "Removes the context with everything it grants.",
        "Role context deleted.",
        "roles.manage",
        run_context_delete,
        ContextDeleteForm,
        danger=True,
        place="context",
        target=("context",),
    ),
]
