"""Notices to the account holder when staff act: one registry, sent through the outbox with
the change, to the old contact too when it changed, never naming the agent unless asked."""

import pytest

from accounts import notices
from accounts.commands import AccountBlock, AccountDelete, EmailMakePrimary, PhoneSet
from accounts.services import (
    account_block,
    account_delete,
    account_email_make_primary,
    account_email_upsert,
    account_phone_update,
)
from portal import tenant_settings
from portal.audit import Actor
from security.commands import AccountUnlock, FactorReset
from security.services import account_unlock, mfa_factor_reset
from tests.factories import AccountFactory, ApiCredentialFactory
from tests.messages.conftest import smtp_mail, smtp_server  # noqa: F401
from tokens.models import OutboxMessage
from tokens.services.multipurpose.outbox import message_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_actor(django_user_model):
    return Actor.staff(django_user_model.objects.create_user(username="lee.lead"))


@pytest.fixture
def maria(tenant):
    return AccountFactory(tenant=tenant, email="maria@example.com", first_name="Maria")


def _sent(**filters):
    return list(OutboxMessage.objects.filter(**filters).order_by("id"))


def test_the_registry_matches_the_tenant_setting():
    assert set(notices.NOTICES) == {value for value, _ in tenant_settings.NOTICE_KINDS}


def test_staff_blocking_tells_the_holder_without_naming_the_agent(tenant, maria, staff_actor):
    account_block(AccountBlock(reason="fraud"), tenant=tenant, actor=staff_actor, account=maria)
    [message] = _sent(template="staffaction")
    assert (message.recipient, message.channel) == ("maria@example.com", "email")
    context = message_context(message)
    assert "support blocked your account" in context["body"].lower()
    assert "lee.lead" not in str(context)


def test_the_tenant_may_name_the_agent_and_give_a_support_contact(tenant, maria, staff_actor):
    tenant.settings = {
        **tenant.settings,
        "notices_name_staff": True,
        "support_contact": "help@shop.example",
    }
    tenant.save()
    account_unlock(
        AccountUnlock(reason="called in"), tenant=tenant, actor=staff_actor, account=maria
    )
    context = message_context(_sent(template="staffaction")[0])
    assert "lee.lead from support" in context["body"]
    assert context["support"] == "help@shop.example"


def test_a_back_end_or_the_holder_acting_sends_no_staff_notice(tenant, maria):
    credential = ApiCredentialFactory(tenant=tenant)
    account_block(
        AccountBlock(reason="api"), tenant=tenant, actor=Actor.credential(credential), account=maria
    )
    assert not _sent(template="staffaction")


def test_a_changed_email_tells_the_old_address_too(tenant, staff_actor):
    from accounts.commands import EmailAddress, EmailUpsert

    account = AccountFactory(tenant=tenant, email="old@example.com")
    account_email_upsert(
        EmailUpsert(emails=(EmailAddress(type="Secondary", value="new@example.com"),)),
        tenant=tenant,
        actor=Actor.system("setup"),
        account=account,
    )
    assert not _sent(template="staffaction")  # not staff
    account_email_make_primary(
        EmailMakePrimary(email="new@example.com"), tenant=tenant, actor=staff_actor, account=account
    )
    recipients = sorted(m.recipient for m in _sent(template="staffaction"))
    assert recipients == ["new@example.com", "old@example.com"]


def test_a_changed_phone_tells_the_old_number_by_sms(tenant, staff_actor):
    account = AccountFactory(tenant=tenant, email="ann@example.com", phone_id="+14155550100")
    account_phone_update(
        PhoneSet(phone="+14155550199"), tenant=tenant, actor=staff_actor, account=account
    )
    sent = {(m.channel, m.recipient) for m in _sent(template="staffaction")}
    assert sent == {("email", "ann@example.com"), ("sms", "+14155550100")}


def test_a_factor_reset_by_staff_is_told(tenant, maria, staff_actor):
    mfa_factor_reset(FactorReset(factor="totp"), tenant=tenant, actor=staff_actor, account=maria)
    assert [m.recipient for m in _sent(template="staffaction")] == ["maria@example.com"]


def test_the_deletion_notice_outlives_the_account(tenant, maria, staff_actor):
    account_delete(AccountDelete(reason="asked"), tenant=tenant, actor=staff_actor, account=maria)
    [message] = _sent(template="staffaction")
    assert message.account_id is None and message.recipient == "maria@example.com"
    assert "deleted your account" in message_context(message)["body"]


def test_a_notice_the_tenant_turned_off_is_not_sent(tenant, maria, staff_actor):
    tenant.settings = {**tenant.settings, "notices_enabled": ["factor.added"]}
    tenant.save()
    account_block(AccountBlock(reason="x"), tenant=tenant, actor=staff_actor, account=maria)
    assert not _sent(template="staffaction")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
def test_the_notice_reaches_a_real_smtp_server(tenant, staff_actor, request):
    server = request.getfixturevalue("smtp_mail")
    account = AccountFactory(tenant=tenant, email="maria@example.com")
    account_block(AccountBlock(reason="fraud"), tenant=tenant, actor=staff_actor, account=account)
    [received] = server.handler.wait_for(1)
    assert received["To"] == "maria@example.com"
    assert received["Subject"] == f"Support blocked the account: your {tenant.name} account"
    text = received.get_body(("plain",)).get_content()
    assert "Support blocked your account" in text and "lee.lead" not in text
