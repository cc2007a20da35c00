"""Substring search over `Account.search_text` that stays cheap when a word is made of
common trigrams.

PostgreSQL answers `search_text LIKE '%word%'` from the trigram index by intersecting the
index entries of every trigram of the word. A trigram that most accounts hold (`use` and
`ser` when every address starts `user...`, `com` and `ail` in real addresses) has an entry
as long as the table, and reading it is most of the query: 10 ms of the 11 that a partial
address took over 1,000,000 accounts, against 1.3 ms without those entries.

So a word that holds such a trigram is looked up through the index by the rest (each run
of its other trigrams, as a `LIKE`), and the whole word is checked with `strpos` on the
rows found, which the index does not take. Only when the rest is still selective: the
trigrams of names are each in a few per cent of accounts, and together narrow a search
far more than any two of them. The shares come from about SAMPLE_ROWS accounts sampled
from pages spread over the table, counted in Python and cached for CACHE_SECONDS. Which
parts the index reads never changes the answer: every row found still holds the word.
"""

import math
import re

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet, Value
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

from accounts.models import Account

# A trigram in more than this share of the accounts is left to the whole-word check.
COMMON_SHARE = 0.25
# The rest must narrow the search to about this share of the accounts or less (estimated as
# the product of its trigrams' shares), or the word is looked up whole.
NARROW_SHARE = 0.001
# Shares below this are not kept; a trigram not kept counts as this share.
SEEN_SHARE = 0.01
SAMPLE_ROWS = 2000
# Fewer sampled accounts than this tell nothing (and a table that small searches fast).
MIN_SAMPLE = 200
CACHE_SECONDS = 6 * 3600
# Fewer trigrams than this left for the index: the word is looked up whole.
MIN_KEPT = 2

# pg_trgm splits text into words at anything that is not a letter or a digit.
_WORDS = re.compile(r"[^\W_]+")


def trigrams_of_word(word: str) -> list[str]:
    """The trigrams pg_trgm takes from `word` inside a `LIKE '%word%'` pattern, in order."""
    return [word[i : i + 3] for i in range(len(word) - 2)]


def trigrams_of_text(text: str) -> set[str]:
    """Every trigram a word of `text` holds (unpadded, as a pattern's inner trigrams are)."""
    found: set[str] = set()
    for word in _WORDS.findall(text):
        found.update(trigrams_of_word(word))
    return found


def shares_in(texts: list[str], *, seen: float = SEEN_SHARE) -> dict[str, float]:
    """The share of `texts` that holds each trigram, for shares of at least `seen`."""
    counts: dict[str, int] = {}
    for text in texts:
        for trigram in trigrams_of_text(text):
            counts[trigram] = counts.get(trigram, 0) + 1
    total = len(texts)
    return {t: round(n / total, 4) for t, n in counts.items() if total and n / total >= seen}


CACHE_KEY = "accounts:search-trigram-shares"
# Held by the process that samples; it lapses on its own if that process dies meanwhile.
SAMPLING_KEY = f"{CACHE_KEY}:sampling"
SAMPLING_SECONDS = 60


def _sample_texts() -> list[str]:
    """About SAMPLE_ROWS search texts from pages spread over the whole table (PostgreSQL's
    block sampling reads only those pages). The whole table, not one tenant: the index is
    shared, so what an index entry costs depends on every tenant's accounts. And not the
    newest accounts: those were often made together and share trigrams the rest do not."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
        # -1 (or 0) until the table is first analysed: sample all of it, up to the LIMIT.
        rows_in_table = float(row[0]) if row else 0.0
        percent = 100.0 if rows_in_table <= 0 else min(100.0, 100.0 * SAMPLE_ROWS / rows_in_table)
        cursor.execute(
            f"SELECT search_text FROM {connection.ops.quote_name(table)} "  # noqa: S608
            "TABLESAMPLE SYSTEM (%s) LIMIT %s",
            [percent, 2 * SAMPLE_ROWS],
        )
        return [text for (text,) in cursor.fetchall()]


def trigram_shares() -> dict[str, float]:
    """The share of all accounts' search texts that holds each trigram (cached; those of
    SEEN_SHARE or more). Empty when the sample is too small to tell, or while another
    process samples: then every word is looked up whole. One process samples at a time, so
    a cold cache costs one sample, not one per process that searches at that moment."""
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    if not cache.add(SAMPLING_KEY, 1, SAMPLING_SECONDS):
        return {}
    try:
        texts = _sample_texts()
        shares = shares_in(texts) if len(texts) >= MIN_SAMPLE else {}
        cache.set(CACHE_KEY, shares, CACHE_SECONDS)
    finally:
        cache.delete(SAMPLING_KEY)
    return shares


def narrowing_parts(word: str, shares: dict[str, float]) -> list[str] | None:
    """The parts of `word` to look up through the index: each run of its trigrams that are
    not common, as the substring they cover. None when the word is better looked up whole:
    it holds no common trigram; what is left is too little (fewer than MIN_KEPT trigrams)
    or too widespread (more than NARROW_SHARE together); or it holds something other than
    letters and digits (where pg_trgm's word boundaries would differ)."""
    if not _WORDS.fullmatch(word):
        return None
    trigrams = trigrams_of_word(word)
    kept = [i for i, trigram in enumerate(trigrams) if shares.get(trigram, 0) <= COMMON_SHARE]
    if len(kept) == len(trigrams) or len(kept) < MIN_KEPT:
        return None
    together = math.prod(max(shares.get(t, 0), SEEN_SHARE) for t in {trigrams[i] for i in kept})
    if together > NARROW_SHARE:
        return None
    runs: list[list[int]] = []
    for i in kept:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return [word[run[0] : run[-1] + 3] for run in runs]


def containing_word(qs: QuerySet[Account], *, word: str) -> QuerySet[Account]:
    """`qs` narrowed to accounts whose search text contains `word` (lower-cased)."""
    if connection.vendor != "postgresql" or len(word) < 4:
        return qs.filter(search_text__contains=word)
    parts = narrowing_parts(word, trigram_shares())
    if parts is None:
        return qs.filter(search_text__contains=word)
    for part in parts:
        qs = qs.filter(search_text__contains=part)
    return qs.filter(GreaterThan(StrIndex("search_text", Value(word)), 0))
