"""Waiting, with a deadline, for what happens outside the test's control: a worker or a
server in another process, a Redis key's expiry, the wall clock a real client signs with.
Time that the code under test reads from Python's clock is frozen with freezegun instead."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `condition()` until it answers something truthy or `timeout` seconds have
    passed; its last answer. Exceptions of the `ignoring` types count as a falsy answer
    (a server that is still starting refuses connections)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = condition()
        except ignoring:
            answer = None
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(interval)


def wait_for_next_second() -> None:
    """Until the wall clock's whole second changes: a client that stamps its requests
    with whole seconds then makes a request distinct from the ones before."""
    current = int(time.time())
    assert wait_until(lambda: int(time.time()) > current, timeout=2), "the clock did not move"
