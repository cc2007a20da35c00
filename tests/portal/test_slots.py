"""The slots the tokens app fills for the sections (portal/slots.py): security queues its
codes and notices and counts sessions through them, never importing tokens."""

import pytest

from portal import slots
from tests.factories import AccountFactory
from tokens.models import OutboxMessage
from tokens.selectors import live_sessions_count
from tokens.services.multipurpose import message_enqueue


def test_tokens_fills_both_slots_at_startup():
    assert slots.filling("message_queue") is message_enqueue
    assert slots.filling("live_sessions_count") is live_sessions_count


def test_filling_a_slot_again_with_the_same_function_is_a_no_op():
    slots.register_message_queue(message_enqueue)
    slots.register_live_sessions_count(live_sessions_count)
    assert slots.filling("message_queue") is message_enqueue


def test_another_function_in_a_filled_slot_is_refused():
    def elsewhere(**kwargs):
        return None

    with pytest.raises(ValueError, match="already filled"):
        slots.register_message_queue(elsewhere)
    assert slots.filling("message_queue") is message_enqueue


def test_an_empty_slot_says_so_instead_of_dropping_the_message(monkeypatch, tenant):
    monkeypatch.setattr(slots, "_SLOTS", {})
    with pytest.raises(RuntimeError, match="message_queue"):
        slots.message_queue(
            tenant=tenant,
            account=None,
            channel="email",
            template="x",
            recipient="a@b.c",
            context={},
        )


@pytest.mark.django_db
def test_a_queued_message_is_an_outbox_row_of_the_account(tenant):
    account = AccountFactory(tenant=tenant)
    slots.message_queue(
        tenant=tenant,
        account=account,
        channel="email",
        template="mfa_otp",
        recipient="holder@example.com",
        context={"subject": "s", "body": "b", "code": "123456"},
    )
    message = OutboxMessage.objects.get(account=account)
    assert (message.channel, message.recipient) == ("email", "holder@example.com")
    assert slots.live_sessions_count(tenant=tenant, account=account) == 0
