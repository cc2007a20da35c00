"""Which events a change records (portal/events.py, "Which events a change records").

The walk: every public function of every services module (and of the flows) declares what
it records; every command (`@events.emits`), run once through its scenario below on a
prepared account with the real services, records exactly one event of its declared type,
with tenant, subject and actor set (the events its subscribers record point to it with
`caused_by`); every registered event type is recorded by some command, flow or import; every
event type declares its payload shape, and the diffs the scenarios record fit it.
"""

import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Max

from portal import audit, events
from portal.audit import Actor
from portal.crypto import decrypt
from portal.models import AuditEvent
from tests.factories import AccountFactory, ApiCredentialFactory, TenantFactory
from tests.portal.service_packages import SERVICE_PACKAGES

# Modules outside the services packages that record events themselves.
OTHER_RECORDING_MODULES = (
    "accounts.importing",
    "accounts.importing.writing",
    "accounts.management.commands.accounts_export",
    "portal.management.commands.encryption_keys_rotate",
    "portal.staff",
)
ORIGIN = "https://id.example.com"
PASSWORD = "Pw-123456-ok"


def _modules(package_name: str) -> list[ModuleType]:
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError:
        return []
    found = [package]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{package_name}."):
        found.append(importlib.import_module(info.name))
    return found


def services_modules() -> list[ModuleType]:
    return [module for name in SERVICE_PACKAGES for module in _modules(name)]


def public_functions(module: ModuleType) -> list[Callable]:
    """The functions `module` defines itself (re-exports are counted where they live)."""
    return [
        value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and not name.startswith("_")
        and value.__module__ == module.__name__
    ]


def declared_commands() -> list[tuple[str, Callable, events.Declaration]]:
    found = []
    for module in services_modules():
        for function in public_functions(module):
            declaration = events.declaration(function)
            if declaration is not None and declaration.kind == events.SERVICE:
                found.append((f"{module.__name__}.{function.__name__}", function, declaration))
    return sorted(found, key=lambda item: item[0])


# --- (a) every public function of a services module is accounted for --------------------


def test_every_public_function_of_a_services_module_declares_what_it_records():
    undeclared = [
        f"{module.__name__}.{function.__name__}"
        for module in services_modules()
        for function in public_functions(module)
        if events.declaration(function) is None
    ]
    assert not undeclared, (
        f"declare what these record (@events.emits / flow / reads / step / upkeep): {undeclared}"
    )


def test_declarations_name_registered_event_types():
    registered = audit.registered_actions()
    for module_name in OTHER_RECORDING_MODULES:
        _modules(module_name)
    services_modules()
    unknown = {
        name: [t for t in d.event_types if t not in registered]
        for name, d in events.declarations().items()
        if any(t not in registered for t in d.event_types)
    }
    assert not unknown, unknown
    for name, declaration in events.declarations().items():
        if declaration.kind == events.SERVICE:
            assert declaration.event_types, f"{name} is a command without an event type"


# --- (c) no dead event types; every type has a payload shape ----------------------------


def test_every_registered_event_type_is_recorded_by_a_command_a_flow_or_an_import():
    for module_name in OTHER_RECORDING_MODULES:
        _modules(module_name)
    services_modules()
    declared = {t for d in events.declarations().values() for t in (*d.event_types, *d.effects)}
    dead = sorted(
        name
        for name in audit.registered_actions()
        if name not in declared and not name.startswith(TEST_ONLY_TYPE_PREFIXES)
    )
    assert not dead, f"registered event types nothing declares it records: {dead}"


# Types the test suite registers for its own checks.
TEST_ONLY_TYPE_PREFIXES = ("eventtest.", "audittest.", "walkertest.", "test.")


def test_every_registered_event_type_declares_its_payload_shape():
    missing = sorted(
        name
        for name in audit.registered_actions()
        if audit.payload_shape(name) is None and not name.startswith(TEST_ONLY_TYPE_PREFIXES)
    )
    assert not missing, f"declare payloads= for these event types: {missing}"


# --- Payload shapes and causes, checked by record ---------------------------------------

audit.register(
    {"walkertest.changed": "A change the event walker's tests record"},
    payloads={"walkertest.changed": events.payload("field", values=("count",))},
)
SYSTEM = Actor.system("test")


def _change(tenant, **diff):
    with transaction.atomic():
        return audit.record(
            tenant=tenant, actor=SYSTEM, action="walkertest.changed", subject_uid="u", changes=diff
        )


def test_record_refuses_a_diff_outside_its_payload_shape_in_strict_mode(tenant, settings):
    settings.EVENT_PAYLOADS_STRICT = True
    assert _change(tenant, field=["a", "b"], count=3).diff == {"field": ["a", "b"], "count": 3}
    with pytest.raises(audit.EventPayloadMismatch, match="undeclared keys"):
        _change(tenant, other=["a", "b"])
    with pytest.raises(audit.EventPayloadMismatch, match="pairs"):
        _change(tenant, field="b")
    assert AuditEvent.objects.filter(action="walkertest.changed").count() == 1


def test_outside_strict_mode_a_mismatch_is_logged_and_the_change_stands(tenant, settings, caplog):
    settings.EVENT_PAYLOADS_STRICT = False
    row = _change(tenant, other=["a", "b"])
    assert row.diff == {"other": ["a", "b"]}
    assert "walkertest.changed diff does not fit its declared payload" in caplog.text


def test_a_payload_shape_needs_its_event_type_registered():
    with pytest.raises(ValueError, match="unregistered"):
        audit.register({}, payloads={"walkertest.unknown": events.payload("x")})


def test_the_test_suite_checks_payloads_strictly():
    from django.conf import settings

    assert settings.EVENT_PAYLOADS_STRICT is True  # tests/conftest.py


def test_an_open_shape_takes_the_keys_a_tenant_defines():
    shape = events.payload("FirstName", open=True)
    assert shape.problems({"FirstName": [None, "A"], "ShoeSize": [None, 43]}) == []
    assert shape.problems({"FirstName": "A"})  # a declared pair key still holds a pair


def test_events_recorded_inside_caused_by_point_to_the_cause(tenant):
    cause = _change(tenant, count=1)
    with transaction.atomic(), events.caused_by(cause.pk):
        effect = audit.record(tenant=tenant, actor=SYSTEM, action="walkertest.changed")
    assert effect.caused_by == cause.pk
    assert _change(tenant, count=2).caused_by is None


# --- (b) and (d): one scenario per command, each records exactly one event ---------------


@dataclass
class World:
    """A tenant with an account, a credential acting on it, and what scenarios prepare."""

    tenant: Any
    account: Any
    actor: Actor
    credential: Any
    # The last event before the command ran (what the preparation recorded is not counted).
    mark: int | None = None
    acted: int = 0

    def act(self, service: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run the command under test, once; only the events from here on count."""
        self.acted += 1
        self.mark = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
        return service(*args, **kwargs)


@dataclass(frozen=True)
class Expect:
    """What a scenario's event must carry when it is not the prepared account's."""

    type: str | None = None
    subject: str | None = None  # None: the world's account; "": none (a tenant-wide event)
    tenant: Any = None  # None: the world's tenant


Scenario = Callable[[World, Callable], Expect | None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    """The scenario of the commands named (by function name: they follow it when it moves
    module). It prepares what the command needs, then calls `service` once."""

    def add(function: Scenario) -> Scenario:
        for name in names:
            assert name not in SCENARIOS, f"two scenarios for {name}"
            SCENARIOS[name] = function
        return function

    return add


@pytest.fixture
def world(db, settings):
    settings.PUBLIC_BASE_URL = ORIGIN
    settings.EVENT_PAYLOADS_STRICT = True
    tenant = TenantFactory()
    account = AccountFactory(tenant=tenant, email="walker@example.com")
    account.password = make_password(PASSWORD)
    account.save(update_fields=["password"])
    credential = ApiCredentialFactory(tenant=tenant)
    return World(
        tenant=tenant, account=account, actor=Actor.credential(credential), credential=credential
    )


@pytest.mark.parametrize(
    ("name", "service", "declaration"),
    [pytest.param(*item, id=item[0]) for item in declared_commands()],
)
def test_each_command_records_exactly_one_event_of_its_type(
    world, name, service, declaration, django_capture_on_commit_callbacks
):
    run = SCENARIOS.get(service.__name__)
    assert run is not None, f"no scenario for {name}: add one to this table"
    with django_capture_on_commit_callbacks(execute=True):
        expect = run(world, service) or Expect()
    assert world.acted == 1, f"the scenario of {name} must run it once, through world.act"
    recorded = list(AuditEvent.objects.filter(id__gt=world.mark).order_by("id"))
    ids = {event.pk for event in recorded}
    roots = [event for event in recorded if event.caused_by not in ids]
    story = [(e.pk, e.action, e.caused_by) for e in recorded]
    assert len(roots) == 1, f"{name} recorded {len(roots)} events of its own: {story}"
    [event] = roots
    assert event.action in declaration.event_types, (event.action, declaration.event_types)
    if expect.type is not None:
        assert event.action == expect.type
    assert event.tenant_id == (expect.tenant or world.tenant).pk
    subject = world.account.uid if expect.subject is None else expect.subject
    assert event.subject_uid == subject, (event.subject_uid, subject)
    assert event.actor_type and event.actor_label, "the event names no actor"
    assert event.schema_version == events.SCHEMA_VERSION and not event.imported
    # What follows from it: its own declared effects, or commands its subscribers ran.
    commanded = {t for _, _, d in declared_commands() for t in d.event_types}
    for other in recorded:
        if other is not event:
            assert other.action in (*declaration.effects, *commanded), other.action
        shape = audit.payload_shape(other.action)
        assert shape is not None, f"{other.action} declares no payload shape"
        # A redacted value was a pair before redaction (record checked it then).
        shown = {k: ([v, v] if v == audit.REDACTED else v) for k, v in other.diff.items()}
        assert not shape.problems(shown), (other.action, other.diff, shape.problems(shown))


def test_every_scenario_runs_a_declared_command():
    commands = {service.__name__ for _, service, _ in declared_commands()}
    stale = sorted(set(SCENARIOS) - commands)
    assert not stale, f"scenarios for functions that are not declared commands: {stale}"


# --- Scenarios ---------------------------------------------------------------------------
# Each calls the real service once; preparation uses factories and other real services.


def _code_of_last_message(account, channel: str) -> str:
    from tokens.models import OutboxMessage

    message = OutboxMessage.objects.filter(account=account, channel=channel).latest("id")
    return json.loads(decrypt(message.context_encrypted))["code"]


def _session(world: World):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    return session_issue(
        SessionIssue(),
        tenant=world.tenant,
        account=world.account,
        actor=Actor.account(world.account.uid),
    )


# accounts: profile, lifecycle, emails, phone, identities, password


@scenario("account_create")
def _(w, service):
    from accounts.commands import AccountCreate, EmailEdit

    command = AccountCreate(emails=(EmailEdit(type="Primary", value="n@x.com"),))
    account = w.act(service, command, tenant=w.tenant, actor=w.actor)
    return Expect(subject=account.uid)


@scenario("account_update")
def _(w, service):
    from accounts.commands import AccountChanges

    w.act(service, AccountChanges(values={"FirstName": "Ada"}), **_who(w))


@scenario("account_uid_update")
def _(w, service):
    from accounts.commands import UidChange

    w.act(service, UidChange(new_uid="new-uid-1"), **_who(w))
    return Expect(subject="new-uid-1")


@scenario("account_block")
def _(w, service):
    from accounts.commands import AccountBlock

    w.act(service, AccountBlock(reason="fraud"), **_who(w))


@scenario("account_unblock")
def _(w, service):
    w.account.is_active = False
    w.account.save(update_fields=["is_active"])
    from accounts.commands import AccountUnblock

    w.act(service, AccountUnblock(), **_who(w))


@scenario("accounts_block")
def _(w, service):
    from accounts.commands import AccountBlock

    _session(w)
    w.act(
        service, AccountBlock(reason="fraud"), tenant=w.tenant, actor=w.actor, accounts=[w.account]
    )


@scenario("accounts_unblock")
def _(w, service):
    w.account.is_active = False
    w.account.save(update_fields=["is_active"])
    from accounts.commands import AccountUnblock

    w.act(service, AccountUnblock(), tenant=w.tenant, actor=w.actor, accounts=[w.account])


@scenario("account_lock")
def _(w, service):
    from security.commands import AccountLock

    w.act(service, AccountLock(locked_type="ManualLock"), **_who(w))


@scenario("account_unlock")
def _(w, service):
    from security.commands import AccountLock, AccountUnlock

    lock = inspect.getmodule(service).account_lock  # the lock of the same module
    lock(AccountLock(locked_type="ManualLock"), **_who(w))
    w.account.refresh_from_db()
    w.act(service, AccountUnlock(), **_who(w))


@scenario("account_lock_set")
def _(w, service):
    from security.commands import AccountLockSet

    w.act(service, AccountLockSet(locked=True), **_who(w))
    return Expect(type="account.locked")


@scenario("account_delete")
def _(w, service):
    from accounts.commands import AccountDelete

    w.act(service, AccountDelete(), **_who(w))


@scenario("account_login_record")
def _(w, service):
    w.act(service, tenant=w.tenant, account=w.account)


@scenario("account_email_upsert")
def _(w, service):
    from accounts.commands import EmailAddress, EmailUpsert

    added = EmailAddress(type="Secondary", value="second@example.com")
    w.act(service, EmailUpsert(emails=(added,)), **_who(w))


@scenario("account_email_remove")
def _(w, service):
    from accounts.commands import EmailRemove

    _add_secondary_email(w)
    w.act(service, EmailRemove(email="second@example.com"), **_who(w))


@scenario("account_email_make_primary")
def _(w, service):
    from accounts.commands import EmailMakePrimary

    _add_secondary_email(w)
    w.act(service, EmailMakePrimary(email="second@example.com"), **_who(w))


@scenario("account_email_mark_verified")
def _(w, service):
    from accounts.commands import EmailMarkVerified

    w.act(service, EmailMarkVerified(email="walker@example.com"), **_who(w))


@scenario("account_email_verification_invalidate")
def _(w, service):
    from accounts.models import AccountEmail

    AccountEmail.objects.filter(account=w.account).update(verified=True)
    w.account.email_verified = True
    w.account.save(update_fields=["email_verified"])
    from accounts.commands import EmailVerificationInvalidate

    w.act(service, EmailVerificationInvalidate(), **_who(w))


@scenario("account_phone_update")
def _(w, service):
    from accounts.commands import PhoneSet

    w.act(service, PhoneSet(phone="+15550001111"), **_who(w))


@scenario("account_phone_mark_verified")
def _(w, service):
    w.account.phone_id = "+15550001111"
    w.account.save(update_fields=["phone_id"])
    from accounts.commands import PhoneMarkVerified

    w.act(service, PhoneMarkVerified(), **_who(w))


@scenario("account_phone_verification_invalidate")
def _(w, service):
    w.account.phone_id, w.account.phone_id_verified = "+15550001111", True
    w.account.save(update_fields=["phone_id", "phone_id_verified"])
    from accounts.commands import PhoneVerificationInvalidate

    w.act(service, PhoneVerificationInvalidate(), **_who(w))


@scenario("account_identity_link")
def _(w, service):
    from accounts.commands import IdentityLink

    w.act(service, IdentityLink(provider="google", provider_id="g-123", profile={}), **_who(w))


@scenario("account_identity_unlink")
def _(w, service):
    from accounts import services as accounts
    from accounts.commands import IdentityLink, IdentityUnlink

    accounts.account_identity_link(IdentityLink(provider="google", provider_id="g-1"), **_who(w))
    w.act(service, IdentityUnlink(provider="google", provider_id="g-1"), **_who(w))


@scenario("account_password_set")
def _(w, service):
    from accounts.commands import PasswordSet

    w.act(service, PasswordSet(password="An0ther-pass!"), **_who(w))


@scenario("account_password_change_require")
def _(w, service):
    from accounts.commands import PasswordChangeRequire

    w.act(service, PasswordChangeRequire(reason="leaked"), **_who(w))


@scenario("account_password_change")
def _(w, service):
    from accounts.commands import PasswordChange

    command = PasswordChange(old_password=PASSWORD, new_password="An0ther-pass!")
    w.act(service, command, tenant=w.tenant, actor=Actor.account(w.account.uid), account=w.account)
    return Expect(type="account_password.set")


def _add_secondary_email(w: World) -> None:
    from accounts.models import AccountEmail

    AccountEmail.objects.create(
        tenant=w.tenant, account=w.account, type="Secondary", value="second@example.com"
    )


# security


@scenario("backup_codes_generate")
def _(w, service):
    from security.commands import BackupCodesGenerate

    w.act(service, BackupCodesGenerate(), **_who(w))


@scenario("backup_codes_remove")
def _(w, service):
    from security.models import BackupCode

    BackupCode.objects.create(tenant=w.tenant, account=w.account, code_hash="x" * 64)
    from security.commands import BackupCodesRemove

    w.act(service, BackupCodesRemove(reason="lost"), **_who(w))


DUO = {"client_id": "DIXXXXXXXXXXXXXXXXXX", "api_host": "api-12345678.duosecurity.com"}


@scenario("duo_config_set")
def _(w, service):
    from security.commands import DuoConfigSet

    w.act(service, DuoConfigSet(**DUO, client_secret="s" * 40), **_tw(w))
    return Expect(subject="")


@scenario("duo_config_delete")
def _(w, service):
    from security.commands import DuoConfigDelete, DuoConfigSet
    from security.services import duo_config_set

    duo_config_set(DuoConfigSet(**DUO, client_secret="s" * 40), **_tw(w))
    w.act(service, DuoConfigDelete(reason="off"), **_tw(w))
    return Expect(subject="")


@scenario("mfa_factor_reset")
def _(w, service):
    from security.commands import FactorReset, TotpEnroll
    from security.services import totp_enroll

    totp_enroll(TotpEnroll(), **_who(w))
    _session(w)
    w.act(service, FactorReset(factor="totp", reason="new phone"), **_who(w))


@scenario("otp_factor_set")
def _(w, service):
    from security.commands import OtpFactorSet

    w.act(service, OtpFactorSet(channel="sms", destination="+15550009999"), **_who(w))


@scenario("otp_factor_confirm")
def _(w, service):
    from security.commands import OtpFactorSet
    from security.services import otp_factor_code_send, otp_factor_set

    otp_factor_set(OtpFactorSet(channel="sms", destination="+15550009999"), **_who(w))
    otp_factor_code_send(tenant=w.tenant, account=w.account, channel="sms")
    code = _code_of_last_message(w.account, "sms")
    w.act(service, **_who(w), channel="sms", code=code)


@scenario("passkey_register")
def _(w, service):
    from security.services import passkey_registration_begin
    from tests.security.soft_authenticator import SoftAuthenticator

    options = passkey_registration_begin(tenant=w.tenant, account=w.account)
    w.act(service, **_who(w), credential=SoftAuthenticator().create(options, origin=ORIGIN))


@scenario("passkey_delete")
def _(w, service):
    from security.models import PasskeyCredential
    from security.services import passkey_register, passkey_registration_begin
    from tests.security.soft_authenticator import SoftAuthenticator

    options = passkey_registration_begin(tenant=w.tenant, account=w.account)
    passkey_register(**_who(w), credential=SoftAuthenticator().create(options, origin=ORIGIN))
    credential_id = PasskeyCredential.objects.get(account=w.account).credential_id
    from security.commands import PasskeyRemove

    w.act(service, PasskeyRemove(passkey_id=credential_id), **_who(w))


def _push_relay(w):
    """Push devices are enrolled only while the tenant has a way to reach them."""
    from security.commands import PushNotifierSet
    from security.services import push_notifier_set

    push_notifier_set(
        PushNotifierSet(kind="webhook", webhook_url="https://push-relay.example.com/hooks"),
        **_tw(w),
    )


@scenario("push_notifier_set")
def _(w, service):
    from security.commands import PushNotifierSet

    w.act(
        service,
        PushNotifierSet(kind="webhook", webhook_url="https://push-relay.example.com/hooks"),
        **_tw(w),
    )
    return Expect(subject="")


@scenario("push_device_register")
def _(w, service):
    from security.commands import PushDeviceRegister

    _push_relay(w)
    command = PushDeviceRegister(device_address="https://push.example.com/d1", name="phone")
    w.act(service, command, **_who(w))


@scenario("push_device_delete")
def _(w, service):
    from security.commands import PushDeviceRegister, PushDeviceRemove
    from security.models import PushDevice
    from security.services import push_device_register

    _push_relay(w)
    command = PushDeviceRegister(device_address="https://push.example.com/d1", name="phone")
    push_device_register(command, **_who(w))

    device_id = PushDevice.objects.get(account=w.account).pk
    w.act(service, PushDeviceRemove(device_id=device_id), **_who(w))


@scenario("reauth_token_issue")
def _(w, service):
    w.act(service, tenant=w.tenant, account=w.account, method="password")


@scenario("security_answers_set")
def _(w, service):
    from security.commands import SecurityAnswersSet

    w.act(service, SecurityAnswersSet(answers={"q1": "blue"}), **_who(w))


@scenario("security_answers_request")
def _(w, service):
    from security.commands import SecurityAnswersRequest

    w.act(service, SecurityAnswersRequest(answers={"q1": "blue"}), **_who(w))
    return Expect(type="security_answers.updated")  # no factor yet: in force at once


@scenario("security_answers_confirm")
def _(w, service):
    from security.commands import SecurityAnswersRequest, SecurityAnswersSet
    from security.services import security_answers_request, security_answers_set

    # Answers already set are a factor: a change of them waits for the emailed code.
    security_answers_set(SecurityAnswersSet(answers={"q1": "red"}), **_who(w))
    security_answers_request(SecurityAnswersRequest(answers={"q1": "blue"}), **_who(w))
    code = _code_of_last_message(w.account, "email")
    w.act(service, **_who(w), code=code)


@scenario("totp_enroll")
def _(w, service):
    from security.commands import TotpEnroll

    w.act(service, TotpEnroll(), **_who(w))


@scenario("totp_confirm")
def _(w, service):
    import time

    from security.commands import TotpEnroll
    from security.services import totp_code, totp_enroll

    secret = totp_enroll(TotpEnroll(), **_who(w))
    w.act(service, account=w.account, code=totp_code(secret, for_time=time.time()))


def _who(w: World) -> dict[str, Any]:
    return {"tenant": w.tenant, "actor": w.actor, "account": w.account}


# tokens: sessions and multipurpose tokens


@scenario("session_issue")
def _(w, service):
    from tokens.commands import SessionIssue

    w.act(
        service,
        SessionIssue(),
        tenant=w.tenant,
        account=w.account,
        actor=Actor.account(w.account.uid),
    )


@scenario("access_token_elevate")
def _(w, service):
    issued = _session(w)
    w.act(
        service, tenant=w.tenant, access_token=issued.access_token, actor=w.actor, method="password"
    )


@scenario("session_refresh")
def _(w, service):
    issued = _session(w)
    w.act(service, tenant=w.tenant, refresh_token=issued.refresh_token, actor=w.actor)
    return Expect(type="session.refreshed")


@scenario("session_refresh_by_access_token")
def _(w, service):
    issued = _session(w)
    w.act(service, tenant=w.tenant, access_token=issued.access_token, actor=w.actor)


@scenario("access_token_slide")
def _(w, service):
    issued = _session(w)
    w.act(service, tenant=w.tenant, access_token=issued.access_token, actor=w.actor)


@scenario("session_revoke")
def _(w, service):
    from tokens.commands import RefreshTokenRevoke

    issued = _session(w)
    w.act(service, RefreshTokenRevoke(refresh_token=issued.refresh_token), **_tw(w))


@scenario("account_session_revoke")
def _(w, service):
    from tokens.models import TokenFamily

    _session(w)
    family = TokenFamily.objects.get(account=w.account)
    from tokens.commands import AccountSessionRevoke

    w.act(service, AccountSessionRevoke(session_id=family.pk), **_who(w))


@scenario("account_sessions_revoke")
def _(w, service):
    from tokens.commands import AccountSessionsRevoke

    _session(w)
    w.act(service, AccountSessionsRevoke(), **_who(w))


@scenario("accounts_sessions_revoke")
def _(w, service):
    from tokens.commands import AccountSessionsRevoke

    _session(w)
    w.act(service, AccountSessionsRevoke(), tenant=w.tenant, actor=w.actor, accounts=[w.account])


@scenario("access_token_invalidate")
def _(w, service):
    from tokens.commands import AccessTokenInvalidate

    issued = _session(w)
    w.act(service, AccessTokenInvalidate(access_token=issued.access_token), **_tw(w))


@scenario("token_issue")
def _(w, service):
    from tokens.commands import TokenIssue

    command = TokenIssue(kind="email", purpose="forgotpassword", destination="walker@example.com")
    w.act(service, command, **_who(w))


@scenario("message_resend")
def _(w, service):
    from tokens.commands import MessageResend
    from tokens.models import OutboxMessage
    from tokens.services.multipurpose import message_enqueue

    message = message_enqueue(
        tenant=w.tenant,
        account=w.account,
        channel="email",
        template="notice",
        recipient="walker@example.com",
        context={"subject": "Hello", "body": "A notice."},
        check_limits=False,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", attempts=5)
    w.act(
        service,
        MessageResend(message_id=message.pk, reason="mailbox fixed"),
        tenant=w.tenant,
        actor=w.actor,
    )


@scenario("token_consumed_record")
def _(w, service):
    from tokens.commands import TokenIssue
    from tokens.services.multipurpose import token_issue

    command = TokenIssue(kind="email", purpose="forgotpassword", destination="walker@example.com")
    issued = token_issue(command, **_who(w))
    w.act(service, tenant=w.tenant, token=issued.token, actor=w.actor)


# roles


@scenario("roles_create")
def _(w, service):
    from roles.commands import RoleInput, RolesCreate

    w.act(service, RolesCreate(roles=(RoleInput(name="editor", permissions=("a.b",)),)), **_tw(w))
    return Expect(subject="")


@scenario("role_delete")
def _(w, service):
    from roles.commands import RoleDelete

    _role(w, "editor")
    w.act(service, RoleDelete(name="editor"), **_tw(w))
    return Expect(subject="")


@scenario("role_permissions_add")
def _(w, service):
    from roles.commands import RolePermissionsAdd

    _role(w, "editor")
    w.act(service, RolePermissionsAdd(name="editor", permissions=("c.d",)), **_tw(w))
    return Expect(subject="")


@scenario("role_permissions_remove")
def _(w, service):
    from roles.commands import RolePermissionsRemove

    _role(w, "editor")
    w.act(service, RolePermissionsRemove(name="editor", permissions=("a.b",)), **_tw(w))
    return Expect(subject="")


@scenario("role_permissions_set")
def _(w, service):
    from roles.commands import RolePermissionsSet

    _role(w, "editor")
    w.act(service, RolePermissionsSet(name="editor", permissions=("c.d",)), **_tw(w))
    return Expect(subject="")


@scenario("account_roles_set")
def _(w, service):
    from roles.commands import AccountRolesSet
    from roles.models import AccountRole

    AccountRole.objects.create(tenant=w.tenant, account=w.account, role=_role(w, "editor"))
    _role(w, "viewer")
    w.act(service, AccountRolesSet(roles=("viewer",)), **_tw(w), account=w.account)


@scenario("account_roles_assign")
def _(w, service):
    from roles.commands import AccountRolesAssign

    _role(w, "editor")
    w.act(service, AccountRolesAssign(roles=("editor",)), **_tw(w), account=w.account)


@scenario("account_roles_unassign")
def _(w, service):
    from roles.commands import AccountRolesUnassign
    from roles.models import AccountRole

    AccountRole.objects.create(tenant=w.tenant, account=w.account, role=_role(w, "editor"))
    w.act(service, AccountRolesUnassign(roles=("editor",)), **_tw(w), account=w.account)


@scenario("role_contexts_upsert")
def _(w, service):
    from roles.commands import ContextGrant, RoleContextGrant

    _role(w, "editor")
    w.act(
        service,
        RoleContextGrant(contexts=(ContextGrant(name="shop", roles=("editor",)),)),
        **_tw(w),
        account=w.account,
    )
    return Expect(type="role_context.created")


@scenario("role_context_delete")
def _(w, service):
    from roles.commands import RoleContextDelete

    _context(w)
    w.act(service, RoleContextDelete(name="shop"), **_tw(w), account=w.account)


@scenario("role_context_roles_remove")
def _(w, service):
    from roles.commands import RoleContextRolesRemove

    _context(w)
    w.act(
        service, RoleContextRolesRemove(name="shop", roles=("editor",)), **_tw(w), account=w.account
    )


@scenario("role_context_permissions_remove")
def _(w, service):
    from roles.commands import RoleContextPermissionsRemove

    _context(w, permissions=("x.y",))
    w.act(
        service,
        RoleContextPermissionsRemove(name="shop", permissions=("x.y",)),
        **_tw(w),
        account=w.account,
    )


def _tw(w: World) -> dict[str, Any]:
    return {"tenant": w.tenant, "actor": w.actor}


def _role(w: World, name: str):
    from roles.models import Role

    return Role.objects.get_or_create(
        tenant=w.tenant, name=name, defaults={"permissions": ["a.b"]}
    )[0]


def _context(w: World, permissions: tuple[str, ...] = ()):
    from roles.models import RoleContext

    context = RoleContext.objects.create(
        tenant=w.tenant, account=w.account, name="shop", additional_permissions=list(permissions)
    )
    context.roles.add(_role(w, "editor"))
    return context


# custom objects


@scenario("object_type_create")
def _(w, service):
    from customobjects.commands import ObjectTypeCreate

    w.act(service, ObjectTypeCreate(name="pets"), **_tw(w))
    return Expect(subject="")


@scenario("object_type_update")
def _(w, service):
    from customobjects.commands import ObjectTypeUpdate

    w.act(service, ObjectTypeUpdate(changes={"name": "animals"}), **_tw(w), object_type=_type(w))
    return Expect(subject="")


@scenario("object_type_delete")
def _(w, service):
    from customobjects.commands import ObjectTypeDelete

    w.act(service, ObjectTypeDelete(), **_tw(w), object_type=_type(w))
    return Expect(subject="")


@scenario("record_create")
def _(w, service):
    from customobjects.commands import RecordCreate

    w.act(
        service,
        RecordCreate(data={"name": "Rex"}),
        **_tw(w),
        object_type=_type(w),
        account=w.account,
    )


@scenario("record_update")
def _(w, service):
    from customobjects.commands import RecordUpdate

    w.act(service, RecordUpdate(data={"name": "Max"}), **_tw(w), record=_record(w))


@scenario("record_delete")
def _(w, service):
    from customobjects.commands import RecordDelete

    w.act(service, RecordDelete(), **_tw(w), record=_record(w))


def _type(w: World):
    from customobjects.models import CustomObjectType

    return CustomObjectType.objects.create(tenant=w.tenant, name="pets")


def _record(w: World):
    from customobjects.models import CustomObjectRecord

    return CustomObjectRecord.objects.create(
        tenant=w.tenant, object_type=_type(w), account=w.account, data={"name": "Rex"}
    )


# portal: tenants and credentials


@scenario("tenant_create")
def _(w, service):
    from portal.tenant_commands import TenantCreate

    tenant, _ = w.act(service, TenantCreate(name="Another tenant"), actor=w.actor)
    return Expect(subject="", tenant=tenant)


@scenario("tenant_update_settings")
def _(w, service):
    from portal.tenant_commands import TenantSettingsChange

    w.act(service, TenantSettingsChange(changes={"lockout_threshold": 7}), **_tw(w))
    return Expect(subject="")


@scenario("credential_create")
def _(w, service):
    from portal.tenant_commands import CredentialCreate

    w.act(service, CredentialCreate(label="backend", scopes=("accounts",)), **_tw(w))
    return Expect(subject="")


@scenario("credential_revoke")
def _(w, service):
    from portal.tenant_commands import CredentialRevoke

    credential = ApiCredentialFactory(tenant=w.tenant)
    w.act(service, CredentialRevoke(credential_id=credential.pk, reason="leaked"), **_tw(w))
    return Expect(subject="")


@scenario("credential_rotate")
def _(w, service):
    from portal.tenant_commands import CredentialRotate

    old = ApiCredentialFactory(tenant=w.tenant)
    command = CredentialRotate(credential_id=old.pk, reason="yearly", overlap_seconds=0)
    w.act(service, command, **_tw(w))
    return Expect(subject="")


# portal: reason presets (tenant-wide, no subject account)


def _reason_preset(w: World):
    from portal.models import ReasonPreset

    return ReasonPreset.objects.create(tenant=w.tenant, label="Lost phone", text="Lost phone.")


@scenario("reason_preset_create")
def _(w, service):
    from portal.reason_presets import ReasonPresetCreate

    w.act(service, ReasonPresetCreate(label="Fraud", text="Reported fraud."), **_tw(w))
    return Expect(subject="")


@scenario("reason_preset_update")
def _(w, service):
    from portal.reason_presets import ReasonPresetUpdate

    preset = _reason_preset(w)
    command = ReasonPresetUpdate(preset_id=preset.pk, label="Lost phone", text="Lost it.")
    w.act(service, command, **_tw(w))
    return Expect(subject="")


@scenario("reason_preset_delete")
def _(w, service):
    from portal.reason_presets import ReasonPresetDelete

    w.act(service, ReasonPresetDelete(preset_id=_reason_preset(w).pk), **_tw(w))
    return Expect(subject="")


# portal: revealing an account's masked personal data


@scenario("account_personal_data_reveal")
def _(w, service):
    from portal.personal_data import PersonalDataReveal

    command = PersonalDataReveal(reason="Caller verified.", ticket="OPS-7")
    w.act(service, command, tenant=w.tenant, actor=w.actor, account=w.account)


# portal: erasure of a deleted account's events


@scenario("account_events_erase")
def _(w, service):
    from accounts import subscribers
    from accounts.commands import AccountChanges
    from accounts.services import account_update
    from portal.erasure import AccountEventsErase

    account_update(AccountChanges(values={"FirstName": "Ada"}), **_who(w))
    # The tombstone alone: its own subscriber would have erased the events already.
    events.unsubscribe("account.deleted", subscribers.events_erase)
    try:
        with transaction.atomic():
            tombstone = audit.record(
                tenant=w.tenant, actor=w.actor, action="account.deleted", subject_uid=w.account.uid
            )
    finally:
        subscribers.subscribe()
    command = AccountEventsErase(uid=w.account.uid, deleted_event_id=tombstone.pk)
    w.act(service, command, tenant=w.tenant, actor=w.actor)


# webhooks: endpoints (administration events, no subject account)


def _webhook(w: World):
    from webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        tenant=w.tenant, url="https://hooks.example.com/x", events=["*"], secret_encrypted=""
    )


@scenario("webhook_create")
def _(w, service):
    from webhooks.commands import WebhookCreate

    w.act(service, WebhookCreate(url="https://hooks.example.com/x", events=("*",)), **_tw(w))
    return Expect(subject="")


@scenario("webhook_update")
def _(w, service):
    from webhooks.commands import WebhookUpdate

    w.act(service, WebhookUpdate(enabled=False), **_tw(w), endpoint=_webhook(w))
    return Expect(subject="")


@scenario("webhook_delete")
def _(w, service):
    from webhooks.commands import WebhookDelete

    w.act(service, WebhookDelete(), **_tw(w), endpoint=_webhook(w))
    return Expect(subject="")


@scenario("webhook_secret_rotate")
def _(w, service):
    from webhooks.commands import WebhookSecretRotate

    w.act(service, WebhookSecretRotate(), **_tw(w), endpoint=_webhook(w))
    return Expect(subject="")


@scenario("webhook_replay")
def _(w, service):
    from webhooks.commands import WebhookReplay

    w.act(service, WebhookReplay(event_ids=(1,)), **_tw(w), endpoint=_webhook(w))
    return Expect(subject="")


@scenario("webhook_disable")
def _(w, service):
    from webhooks.commands import WebhookDisable

    w.act(service, WebhookDisable(reason="failing"), **_tw(w), endpoint=_webhook(w))
    return Expect(subject="")


# --- Bulk jobs --------------------------------------------------------------------------------


def _job(w: World, action: str = "block", **extra: Any):
    from jobs.commands import JobCreate
    from jobs.services import job_create

    return job_create(
        JobCreate(
            action=action,
            uids=(w.account.uid,),
            reason="walker",
            expected_count=1 if action == "block" else None,
            **extra,
        ),
        **_tw(w),
    )


@scenario("job_create")
def _(w, service):
    from jobs.commands import JobCreate

    w.act(service, JobCreate(action="unblock", uids=(w.account.uid,), reason="walker"), **_tw(w))
    return Expect(subject="")


@scenario("job_cancel")
def _(w, service):
    from jobs.commands import JobCancel

    job = _job(w)
    w.act(service, JobCancel(job_id=job.pk, reason="walker"), **_tw(w))
    return Expect(subject="")


@scenario("job_revert")
def _(w, service):
    from jobs.commands import JobBatchRun, JobRevert
    from jobs.services import job_batch_run

    job = _job(w)
    job_batch_run(JobBatchRun(job_id=job.pk))
    w.act(service, JobRevert(job_id=job.pk, reason="walker"), **_tw(w))
    return Expect(subject="")


def _approval(w: World):
    """A pending request by the world's credential to reset the account's TOTP."""
    from approvals.commands import ApprovalRequestCreate
    from approvals.services import approval_request
    from security.commands import FactorReset

    return approval_request(
        ApprovalRequestCreate(
            gate="factor.reset",
            command=FactorReset(factor="totp", reason="walker").to_json(seal=True),
            account_uid=w.account.uid,
            reason="walker",
        ),
        **_tw(w),
    )


def _approver(w: World):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    user = get_user_model().objects.create_user(username="walker.lead", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name="Lead")[0])
    assign_perm("portal.approve_requests", user, w.tenant)
    return user


@scenario("approval_request")
def _(w, service):
    from approvals.commands import ApprovalRequestCreate
    from security.commands import FactorReset

    w.act(
        service,
        ApprovalRequestCreate(
            gate="factor.reset",
            command=FactorReset(factor="totp", reason="walker").to_json(seal=True),
            account_uid=w.account.uid,
            reason="walker",
        ),
        **_tw(w),
    )


@scenario("approval_approve")
def _(w, service):
    from approvals.commands import ApprovalApprove

    request = _approval(w)
    w.act(service, ApprovalApprove(request_id=request.pk), tenant=w.tenant, approver=_approver(w))


@scenario("approval_deny")
def _(w, service):
    from approvals.commands import ApprovalDeny

    request = _approval(w)
    w.act(service, ApprovalDeny(request_id=request.pk), tenant=w.tenant, approver=_approver(w))


@scenario("approval_cancel")
def _(w, service):
    from approvals.commands import ApprovalCancel

    request = _approval(w)
    w.act(service, ApprovalCancel(request_id=request.pk), **_tw(w))


@scenario("approval_expire")
def _(w, service):
    from datetime import timedelta

    from django.utils import timezone

    from approvals.commands import ApprovalExpire
    from approvals.models import ApprovalRequest

    request = _approval(w)
    ApprovalRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(1))
    w.act(service, ApprovalExpire(request_id=request.pk), tenant=w.tenant)


def _staff(w: World, role: str, name: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    user = get_user_model().objects.create_user(username=name, password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for perm in ("view_accounts", "manage_accounts"):
        assign_perm(f"portal.{perm}", user, w.tenant)
    return user


def _grant_made(w: World):
    from datetime import timedelta

    from django.utils import timezone

    from portal.access_grants import access_grant_create
    from portal.tenant_commands import AccessGrantCreate

    return access_grant_create(
        AccessGrantCreate(
            user_id=_staff(w, "Agent", "walker.agent").pk,
            uids=(w.account.uid,),
            scope="act",
            ends_at=timezone.now() + timedelta(hours=1),
            ticket="T-1",
            reason="walker",
        ),
        tenant=w.tenant,
        granter=_staff(w, "Lead", "walker.granter"),
    )


@scenario("access_grant_create")
def _(w, service):
    from datetime import timedelta

    from django.utils import timezone

    from portal.tenant_commands import AccessGrantCreate

    agent, lead = _staff(w, "Agent", "walker.agent"), _staff(w, "Lead", "walker.granter")
    w.act(
        service,
        AccessGrantCreate(
            user_id=agent.pk,
            uids=(w.account.uid,),
            scope="view",
            ends_at=timezone.now() + timedelta(hours=1),
            ticket="T-1",
            reason="walker",
        ),
        tenant=w.tenant,
        granter=lead,
    )


@scenario("break_glass_grant")
def _(w, service):
    from portal.tenant_commands import BreakGlassGrant

    w.tenant.settings = {**w.tenant.settings, "break_glass_allowed": True}
    w.tenant.save()
    w.act(
        service,
        BreakGlassGrant(uids=(w.account.uid,), scope="act", minutes=10, reason="walker"),
        tenant=w.tenant,
        user=_staff(w, "Agent", "walker.agent"),
    )


@scenario("access_grant_revoke")
def _(w, service):
    from portal.tenant_commands import AccessGrantRevoke

    grant = _grant_made(w)
    w.act(service, AccessGrantRevoke(grant_id=grant.pk), tenant=w.tenant, user=grant.user)


# --- guided recovery (security.services.recovery) ------------------------------------------


def _recovery_case(w: World, *, checks: tuple[str, ...] = ("document",), cooling: int = 0):
    """An open case on the world's account, opened by an Agent who may reset factors."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from security.commands import RecoveryCaseOpen
    from security.services.recovery import recovery_case_open

    w.tenant.settings = {
        **w.tenant.settings,
        "recovery_checks": list(checks),
        "recovery_cooling_off_hours": cooling,
        "approval_gates": [],
    }
    w.tenant.save()
    w.account.emails.update(verified=True)
    user = get_user_model().objects.create_user(username="walker.rescuer", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name="Agent")[0])
    for perm in ("view_accounts", "manage_accounts", "manage_security"):
        assign_perm(f"portal.{perm}", user, w.tenant)
    actor = Actor.staff(user)
    case = recovery_case_open(
        RecoveryCaseOpen(purpose="factor.reset", factor="totp", reason="walker"),
        tenant=w.tenant,
        actor=actor,
        account=w.account,
    )
    return case, actor


def _recovery_attested(w: World, case, actor) -> None:
    from security.commands import RecoveryAttest
    from security.services.recovery import recovery_attest

    recovery_attest(
        RecoveryAttest(case_id=case.pk, check="document", reference="D-1", confirmed=True),
        tenant=w.tenant,
        actor=actor,
    )


@scenario("recovery_case_open")
def _(w, service):
    from security.commands import RecoveryCaseOpen

    w.act(
        service,
        RecoveryCaseOpen(purpose="email.change", new_email="walker@new.example", reason="walker"),
        **_tw(w),
        account=w.account,
    )


@scenario("recovery_code_send")
def _(w, service):
    from security.commands import RecoveryCodeSend

    case, actor = _recovery_case(w, checks=("code",))
    w.act(service, RecoveryCodeSend(case_id=case.pk, channel="email"), tenant=w.tenant, actor=actor)


@scenario("recovery_code_verify")
def _(w, service):
    case, actor = _recovery_case(w, checks=("code",))
    w.act(service, tenant=w.tenant, actor=actor, case_id=case.pk, code="000000")


@scenario("recovery_answers_verify")
def _(w, service):
    case, actor = _recovery_case(w, checks=("answers",))
    w.act(service, tenant=w.tenant, actor=actor, case_id=case.pk, answers={"pet": "rex"})


@scenario("recovery_attest")
def _(w, service):
    from security.commands import RecoveryAttest

    case, actor = _recovery_case(w, checks=("callback",))
    w.act(
        service,
        RecoveryAttest(case_id=case.pk, check="callback", phone="+14155550100", confirmed=True),
        tenant=w.tenant,
        actor=actor,
    )


@scenario("recovery_case_proceed")
def _(w, service):
    from security.commands import RecoveryProceed

    case, actor = _recovery_case(w)
    _recovery_attested(w, case, actor)
    w.act(service, RecoveryProceed(case_id=case.pk), tenant=w.tenant, actor=actor)


@scenario("recovery_case_run")
def _(w, service):
    from datetime import timedelta

    from django.utils import timezone

    from security.commands import RecoveryProceed, RecoveryRun
    from security.models import RecoveryCase
    from security.services.recovery import recovery_case_proceed

    case, actor = _recovery_case(w, cooling=1)
    _recovery_attested(w, case, actor)
    recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=w.tenant, actor=actor)
    RecoveryCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    w.act(service, RecoveryRun(case_id=case.pk), tenant=w.tenant)


@scenario("recovery_case_cancel")
def _(w, service):
    from portal.crypto import token_hash
    from security.commands import RecoveryProceed
    from security.models import RecoveryCase
    from security.services.recovery import recovery_case_proceed

    case, actor = _recovery_case(w, cooling=1)
    _recovery_attested(w, case, actor)
    recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=w.tenant, actor=actor)
    # The token itself went out in the notice; a known one stands in for it.
    RecoveryCase.objects.filter(pk=case.pk).update(cancel_token_hash=token_hash("walker-token"))
    w.act(service, token="walker-token")


@scenario("recovery_case_close")
def _(w, service):
    from security.commands import RecoveryCaseClose

    case, actor = _recovery_case(w)
    w.act(
        service, RecoveryCaseClose(case_id=case.pk, reason="walker"), tenant=w.tenant, actor=actor
    )


@scenario("approval_result_collect")
def _(w, service):
    from guardian.shortcuts import assign_perm

    from approvals.commands import ApprovalApprove, ApprovalRequestCreate, ApprovalResultCollect
    from approvals.services import approval_approve, approval_request
    from tokens.commands import SessionIssue

    asker = _staff(w, "Lead", "walker.asker")
    assign_perm("portal.manage_security", asker, w.tenant)
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.impersonate",
            command=SessionIssue(reason="walker", refresh=False).to_json(seal=True),
            account_uid=w.account.uid,
            reason="walker",
        ),
        tenant=w.tenant,
        actor=Actor.staff(asker),
    )
    approval_approve(ApprovalApprove(request_id=request.pk), tenant=w.tenant, approver=_approver(w))
    w.act(
        service,
        ApprovalResultCollect(request_id=request.pk),
        tenant=w.tenant,
        actor=Actor.staff(asker),
    )
