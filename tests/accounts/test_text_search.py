"""Substring search by the trigrams of a word that are not common, the whole word checked on
the rows found (accounts/text_search.py)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import text_search
from accounts.filters import AccountFilter
from accounts.models import Account
from portal.console import selectors as console_selectors
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_words_trigrams_are_its_three_letter_windows():
    assert text_search.trigrams_of_word("user12") == ["use", "ser", "er1", "r12"]
    assert text_search.trigrams_of_word("ab") == []


def test_a_texts_trigrams_stop_at_what_is_not_a_letter_or_digit():
    # "|", "@", "." and "_" split words, as pg_trgm does; no trigram spans them.
    assert text_search.trigrams_of_text("ab_cd|x@yz.com") == {"com"}
    assert text_search.trigrams_of_text("Ünïcode") == {"Ünï", "nïc", "ïco", "cod", "ode"}


def test_shares_are_kept_from_the_floor_up():
    texts = ["user1", "user2", "user3", "zzzz"]  # "use" and "ser" in 3 of 4
    assert text_search.shares_in(texts, seen=0.5) == {"use": 0.75, "ser": 0.75}
    assert text_search.shares_in(texts, seen=0.2) == {
        "use": 0.75,
        "ser": 0.75,
        "er1": 0.25,
        "er2": 0.25,
        "er3": 0.25,
        "zzz": 0.25,
    }
    assert text_search.shares_in([]) == {}


# Shares as a table of user addresses and names gives them: the address prefix is in
# every account, "r0" and "son" in a tenth, name trigrams in a few per cent; "fgh" is
# common and "ghi" and "hij" are in a fifth each.
SHARES = {
    "use": 1.0,
    "ser": 1.0,
    "er0": 0.9,
    "ers": 0.3,
    "r06": 0.1,
    "son": 0.1,
    "ans": 0.04,
    "nse": 0.04,
    "sen": 0.05,
    "ena": 0.03,
    "fgh": 0.3,
    "ghi": 0.2,
    "hij": 0.2,
}


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        # The common prefix is left to the whole-word check; the rest is one run.
        ("user067048", ["r067048"]),
        # Two runs around a common trigram in the middle.
        ("abcuseabc", ["abcus", "seabc"]),
        # Nothing common: the word itself, as before.
        ("zqxwvu", None),
        # Every trigram common, or too few others left to narrow the search.
        ("user", None),
        ("users", None),
        # A name's trigrams are each in a few per cent, none common: the word whole.
        ("ansena", None),
        # What is left is too widespread together (a fifth of a fifth): the common
        # trigram narrows the search too, so the word is looked up whole.
        ("fghij", None),
        # Not letters and digits alone: pg_trgm's word boundaries would differ.
        ("user067048@bench", None),
        ("jo-ann", None),
    ],
)
def test_the_parts_looked_up_are_the_runs_of_trigrams_that_are_not_common(word, parts):
    assert text_search.narrowing_parts(word, SHARES) == parts


def number_of(i: int) -> str:
    """Seven digits spread over the range, so no digit trigram is common among them."""
    return f"{(i * 7919 + 1234567) % 10_000_000:07d}"


def _accounts_sharing_a_prefix(tenant, count):
    """`count` accounts whose search texts all hold "user", each followed by its number."""
    accounts = [AccountFactory.build(tenant=tenant) for _ in range(count)]
    for i, account in enumerate(accounts):
        account.search_text = f"{account.uid}|user{number_of(i)}@example.org"
    return Account.objects.bulk_create(accounts)


def _sql_of(qs) -> str:
    with CaptureQueriesContext(connection) as ctx:
        list(qs.all())
    return ctx.captured_queries[-1]["sql"]


@pytest.mark.postgres
def test_a_common_prefix_is_left_out_of_the_index_lookup_and_checked_whole(tenant):
    accounts = _accounts_sharing_a_prefix(tenant, text_search.MIN_SAMPLE + 50)
    number = number_of(42)
    # The number after another prefix: found by the index's part, refused by the whole word.
    decoy = AccountFactory(tenant=tenant, email=False)
    Account.objects.filter(pk=decoy.pk).update(search_text=f"peter{number}|x@example.org")
    assert {"use", "ser"} <= text_search.trigram_shares().keys()

    word = f"user{number}"
    qs = text_search.containing_word(Account.objects.filter(tenant=tenant), word=word)
    assert [account.pk for account in qs] == [accounts[42].pk]
    sql = _sql_of(qs)
    assert "STRPOS" in sql.upper()
    assert f"%{word}%" not in sql and f"{number}%" in sql
    # The same answer as the plain substring filter, for words of every kind.
    for word in (f"user{number}", f"user{number[:3]}", number, "example", "peter", "user0"):
        plain = Account.objects.filter(tenant=tenant, search_text__contains=word)
        narrowed = text_search.containing_word(Account.objects.filter(tenant=tenant), word=word)
        assert sorted(a.pk for a in narrowed) == sorted(a.pk for a in plain), word


@pytest.mark.postgres
def test_the_common_trigrams_are_read_once_and_cached(tenant, django_assert_num_queries):
    _accounts_sharing_a_prefix(tenant, text_search.MIN_SAMPLE)
    with django_assert_num_queries(2):  # the table's size, then its sample
        first = text_search.trigram_shares()
    assert "use" in first
    with django_assert_num_queries(0):
        assert text_search.trigram_shares() == first
    assert cache.get(text_search.CACHE_KEY) == first
    assert first["use"] == 1.0


@pytest.mark.postgres
def test_while_another_process_samples_words_are_looked_up_whole(tenant, django_assert_num_queries):
    _accounts_sharing_a_prefix(tenant, text_search.MIN_SAMPLE)
    cache.add(text_search.SAMPLING_KEY, 1, 60)  # another process is sampling
    with django_assert_num_queries(0):
        assert text_search.trigram_shares() == {}
    cache.delete(text_search.SAMPLING_KEY)  # it is done (or its hold lapsed)
    assert "use" in text_search.trigram_shares()
    assert cache.get(text_search.SAMPLING_KEY) is None


@pytest.mark.postgres
def test_too_small_a_sample_tells_nothing(tenant):
    _accounts_sharing_a_prefix(tenant, 20)
    assert text_search.trigram_shares() == {}
    word = f"user{number_of(7)}"
    qs = text_search.containing_word(Account.objects.filter(tenant=tenant), word=word)
    assert "STRPOS" not in _sql_of(qs).upper()
    assert qs.count() == 1


@pytest.mark.postgres
def test_the_console_box_and_the_native_filter_find_a_partial_address(tenant):
    accounts = _accounts_sharing_a_prefix(tenant, text_search.MIN_SAMPLE + 10)
    word = f"User{number_of(7)}"
    found = console_selectors.account_search(tenant=tenant, query=word)
    assert [a.pk for a in found] == [accounts[7].pk]
    filtered = AccountFilter({"search": word}, queryset=Account.objects.all(), tenant=tenant).qs
    assert [a.pk for a in filtered] == [accounts[7].pk]


def test_short_words_and_other_databases_take_the_plain_substring_filter(tenant):
    AccountFactory(tenant=tenant, email="user0000001@example.org")
    words = ["use"] if connection.vendor == "postgresql" else ["use", "user0000001"]
    for word in words:
        qs = text_search.containing_word(Account.objects.filter(tenant=tenant), word=word)
        assert qs.count() == 1
        sql = _sql_of(qs).upper()
        assert "INSTR" not in sql and "STRPOS" not in sql
