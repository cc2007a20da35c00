"""Who may see a console page: a signed-in staff user with a verified second factor, an idle
timeout, the current tenant among those granted, and a 403 page that says what to do."""

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from portal import staff
from portal.audit import Actor
from portal.console import display
from portal.models import Tenant
from portal.staff_session import (
    LAST_SEEN_RESOLUTION_SECONDS,
    LAST_SEEN_SESSION_KEY,
    TENANT_SESSION_KEY,
    apply_security_headers,
    session_expired,
)


class ConsoleDenied(PermissionDenied):
    """A refusal that tells the user what to do about it."""

    def __init__(self, what: str, remedy: str):
        super().__init__(what)
        self.what = what
        self.remedy = remedy


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class ConsoleContext:
    """What every console page knows about the signed-in staff member."""

    def __init__(self, request):
        self.request = request
        self.user = request.user
        # Groups, tenants and permissions read once: the role comes from the groups, and the
        # page's own checks on the current tenant answer from the permissions (`can`).
        access = staff.staff_access(user=request.user)
        self.role = staff.staff_role(user=request.user, groups=access.groups)
        self.tenants = access.tenants
        self.tenant = self._current_tenant()
        self.held = access.held_on(self.tenant)
        self.allowed = staff.staff_allowed_actions(
            user=request.user, tenant=self.tenant, role=self.role, held=self.held
        )
        self.is_admin = self.role == staff.ADMIN
        self.admin_tenants = access.admin_tenants if self.is_admin else []

    def _current_tenant(self) -> Tenant | None:
        chosen = self.request.session.get(TENANT_SESSION_KEY)
        for tenant in self.tenants:
            if tenant.pk == chosen:
                return tenant
        return self.tenants[0] if self.tenants else None

    def may(self, action: str) -> bool:
        return action in self.allowed

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        """The tenant named `slug`: the current one without a query."""
        if self.tenant is not None and self.tenant.slug == slug:
            return self.tenant
        return Tenant.objects.filter(slug=slug).first()

    def can(self, tenant: Tenant, permission: str) -> bool:
        """Whether the user holds `permission` on `tenant` (as staff.staff_can)."""
        if self.tenant is not None and tenant.pk == self.tenant.pk:
            return staff.held_allows(user=self.user, held=self.held, permission=permission)
        return staff.staff_can(user=self.user, tenant=tenant, permission=permission)

    @property
    def actor(self) -> Actor:
        return Actor.staff(self.user)

    @property
    def show_tenants_admin(self) -> bool:
        return self.is_admin


class StaffRequiredMixin:
    """Every console page: signed in, second factor verified, not idle, holding a role."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated or not user.is_verified():
            if user.is_authenticated:
                logout(request)
            login_url = reverse("console:login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        now = int(time.time())
        expired = session_expired(request, now)
        if expired:
            logout(request)
            messages.info(request, expired)
            login_url = reverse("console:login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        if (
            now - int(request.session.get(LAST_SEEN_SESSION_KEY) or 0)
            >= LAST_SEEN_RESOLUTION_SECONDS
        ):
            request.session[LAST_SEEN_SESSION_KEY] = now
        self.console = ConsoleContext(request)
        # People on this page show as the reader's role may see them (display.py); the page
        # is rendered while that policy is bound.
        with display.masking_bound(self.masking_for(self.console.tenant)):
            try:
                if self.console.role is None:
                    raise ConsoleDenied(
                        "Your user holds no console role.",
                        "Ask an Admin to add you to one of the groups Viewer, Agent, Lead or "
                        "Admin.",
                    )
                response = super().dispatch(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
            except ConsoleDenied as denied:
                response = render(
                    request,
                    "console/403.html",
                    {
                        "console": self.console,
                        "what": display.text_shown(denied.what),
                        "remedy": denied.remedy,
                    },
                    status=403,
                )
            except Http404:
                response = render(
                    request, "console/404.html", {"console": self.console}, status=404
                )
            if display.current_masking().revealed:
                # Revealed values never stay in a cache.
                response["Cache-Control"] = "no-store"
        return apply_security_headers(response)

    def masking_for(self, tenant: Tenant | None) -> display.Masking:
        """The masking policy of this reader on `tenant` (masked when there is none)."""
        if tenant is None:
            return display.MASKED
        return display.masking_of_tenant(role=self.console.role, tenant=tenant)

    def mask_for(self, tenant: Tenant) -> None:
        """Show people as `tenant`'s settings say, for a page about that tenant."""
        display.set_masking(self.masking_for(tenant))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["console"] = self.console
        return context

    # Helpers for the views.
    def require_tenant(self) -> Tenant:
        if self.console.tenant is None:
            raise ConsoleDenied(
                "No tenant has been shared with you yet.",
                "Ask an Admin to grant you access to the tenant you work on.",
            )
        return self.console.tenant

    def tenant_from_slug(self, slug: str, permission: str = "view_accounts") -> Tenant:
        """A tenant the user may see, by slug; any other is "not found"."""
        tenant = self.console.tenant_by_slug(slug)
        if tenant is None or not self.console.can(tenant, permission):
            raise Http404("No such tenant")
        self.mask_for(tenant)
        return tenant

    def may(self, tenant: Tenant, action: str) -> bool:
        if self.console.tenant is not None and tenant.pk == self.console.tenant.pk:
            return self.console.may(action)
        return staff.staff_may(user=self.request.user, tenant=tenant, action=action)

    def require_action(self, tenant: Tenant, action: str) -> None:
        if not self.may(tenant, action):
            spec = staff.ACTIONS[action]
            raise ConsoleDenied(
                f"You may not {spec.label.lower()} on {tenant.name}.",
                f"This needs the {spec.role} role (or higher) and the "
                f"“{staff.TENANT_PERMISSIONS[spec.permission]}” permission on {tenant.name}. "
                "Ask an Admin of this tenant to grant it.",
            )

    def require_role(self, role: str, what: str) -> None:
        held = self.console.role
        if held is None or staff.ROLE_RANK[held] < staff.ROLE_RANK[role]:
            raise ConsoleDenied(
                f"Only the {role} role may {what}.",
                f"Ask an Admin to add you to the {role} group if your work needs it.",
            )
