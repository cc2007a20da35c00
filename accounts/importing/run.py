"""One import run: rows are read and checked in file order, written batch by batch, the
rejects reported (line number and reason) and the checkpoint moved after each batch."""

import csv
import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

from django.db import connection

from accounts.importing.rows import Row, RowError, Seen, parse_row, records
from accounts.importing.writing import batch_commit, taken_in_tenant
from portal.models import Tenant


@dataclass(frozen=True)
class ImportResult:
    imported: int
    rejected: int


def checkpoint_line(path: str) -> int:
    """The last line a previous run committed (0 without a checkpoint file)."""
    if not os.path.exists(path):
        return 0
    with open(path) as fh:
        return int(json.load(fh)["line"])


def _checkpoint_write(path: str, *, source: str, line: int) -> None:
    with open(path + ".tmp", "w") as fh:
        json.dump({"file": os.path.abspath(source), "line": line}, fh)
    os.replace(path + ".tmp", path)


def accounts_import(
    *,
    tenant: Tenant,
    stream: TextIO,
    fmt: str,
    report: TextIO,
    checkpoint_path: str,
    source: str,
    start_after: int = 0,
    batch_size: int = 2000,
    dry_run: bool = False,
    progress: Callable[..., None] | None = None,
) -> ImportResult:
    """Import the records of `stream` after line `start_after` into `tenant`. Rejected rows go
    to `report` (CSV: line,reason); `progress(done, imported, rejected)` hears of every row
    and, with `final=True`, of the end. With `dry_run` every row is checked, nothing written."""
    from roles.models import Role

    roles = {r.name: r for r in Role.objects.filter(tenant=tenant)}
    writer = csv.writer(report)
    if report.tell() == 0:
        writer.writerow(["line", "reason"])
    seen = Seen()
    done = imported = failed = 0
    batch: list[Row] = []
    batch_errors: list[tuple[int, str]] = []
    first_line = last_line = 0

    def process(
        rows: list[Row], problems: list[tuple[int, str]], first: int, last: int
    ) -> tuple[int, int]:
        """Check a batch against the tenant, write it, report its rejects, move the checkpoint."""
        clashes = taken_in_tenant(tenant, rows) if rows else {}
        good = [r for r in rows if r.line not in clashes]
        problems += clashes.items()
        if not dry_run:
            good, conflicts = batch_commit(
                tenant=tenant,
                rows=good,
                roles=roles,
                rejected=len(problems),
                first_line=first,
                last_line=last,
                source=source,
            )
            problems += [(r.line, reason) for r, reason in conflicts]
        writer.writerows(sorted(problems))
        report.flush()
        if not dry_run:
            _checkpoint_write(checkpoint_path, source=source, line=last)
        return len(good), len(problems)

    # On PostgreSQL outside a transaction, one writer thread (its own connection) writes
    # batch k while this thread parses batch k+1; batches still commit in file order.
    pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block and not dry_run
    writer_thread = ThreadPoolExecutor(max_workers=1) if pipelined else None
    pending: list[Future] = []

    def collect() -> None:
        nonlocal imported, failed
        while pending:
            good, bad = pending.pop(0).result()
            imported += good
            failed += bad

    def flush() -> None:
        nonlocal batch, batch_errors, first_line, imported, failed
        args = (batch, batch_errors, first_line, last_line)
        batch, batch_errors, first_line = [], [], 0
        if writer_thread is None:
            good, bad = process(*args)
            imported += good
            failed += bad
            return
        collect()
        pending.append(writer_thread.submit(process, *args))

    try:
        for line, record, problem in records(stream, fmt):
            if line <= start_after:
                continue
            done += 1
            first_line = first_line or line
            last_line = line
            if not problem:
                try:
                    row = parse_row(line, record)
                    problem = seen.clash(row)
                except RowError as exc:
                    problem = str(exc)
            if not problem:
                missing = [n for n in row.roles if n not in roles]
                if missing:
                    problem = f"unknown role {missing[0]!r}"
            if problem:
                batch_errors.append((line, problem))
            else:
                seen.add(row)
                batch.append(row)
            if len(batch) + len(batch_errors) >= batch_size:
                flush()
            if progress is not None:
                progress(done, imported, failed)
        if batch or batch_errors:
            flush()
        collect()
    finally:
        if writer_thread is not None:
            for future in pending:
                future.exception()  # wait: the batch in flight commits or fails before we stop
            writer_thread.submit(
                lambda: connection.close()
            ).result()  # the writer thread's own connection
            writer_thread.shutdown()
        if progress is not None:
            progress(done, imported, failed, final=True)
    return ImportResult(imported=imported, rejected=failed)
