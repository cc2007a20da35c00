"""Run one call from several threads released together, each on its own database
connection, and collect what each got: the return value, the LoginRadius error code, or
the code of a named domain error."""

import threading

from django.db import connection

from portal.errors import DomainError
from portal.lrapi.errors import LRError


def run_concurrently(
    fn,
    n: int,
    *,
    pass_index: bool = False,
    timeout: float = 60,
    keep: tuple[type[BaseException], ...] = (),
) -> list:
    """`fn()` (or `fn(i)` with `pass_index`) in `n` threads at once; their outcomes in the
    order they finished. A thread still running after `timeout` is missing from the list.
    An exception of a type in `keep` is itself the outcome, ahead of the two codes above;
    any other exception ends its thread, so that thread is missing too."""
    barrier = threading.Barrier(n)
    outcomes: list = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait()
            outcome = fn(i) if pass_index else fn()
        except keep as exc:
            outcome = exc
        except LRError as exc:
            outcome = exc.error_code
        except DomainError as exc:
            outcome = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcomes
