"""Bulk import of accounts from JSON Lines or CSV: the command line of `accounts.importing`
(which describes the record format). It resolves the tenant, the files and the resume
point, and shows progress."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from accounts.importing import accounts_import, checkpoint_line
from portal.models import Tenant


def find_tenant(value: str) -> Tenant:
    tenant = (
        Tenant.objects.filter(slug=value).first() or Tenant.objects.filter(api_key=value).first()
    )
    if tenant is None and value.isdigit():
        tenant = Tenant.objects.filter(pk=int(value)).first()
    if tenant is None:
        raise CommandError(f"no tenant with slug, API key or id {value!r}")
    return tenant


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise CommandError("cannot tell the format from the file name; pass --format jsonl|csv")


def count_lines(path: str) -> int:
    total = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            total += chunk.count(b"\n")
    return total


# ---------------------------------------------------------------- progress


def _plain(text: str) -> str:
    return text


class Progress:
    """A one-line progress bar with rate and ETA on stderr (a command's OutputWrapper)."""

    def __init__(self, stream, total: int | None, enabled: bool) -> None:
        self.stream, self.total, self.enabled = stream, total, enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.tty = stream.isatty()

    def update(
        self,
        done: int,
        imported: int | None = None,
        failed: int | None = None,
        *,
        final: bool = False,
    ) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.last < (0.25 if self.tty else 5.0):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            eta = (self.total - done) / rate if rate > 0 else 0
            text = (
                f"[{bar:<30}] {share:6.1%} {done}/{self.total} rows  {rate:,.0f} rows/s  "
                f"ETA {int(eta) // 60}:{int(eta) % 60:02d}"
            )
        else:
            text = f"{done} rows  {rate:,.0f} rows/s"
        if imported is not None:
            text += f"  imported {imported}  rejected {failed}"
        # Written as it is: no ending added, and not in the error style of stderr.
        self.stream.write(("\r" + text) if self.tty else text + "\n", _plain, ending="")
        if final and self.tty:
            self.stream.write("\n", _plain, ending="")
        self.stream.flush()


# ---------------------------------------------------------------- command


class Command(BaseCommand):
    help = "Import accounts from a JSON Lines or CSV file (pre-hashed passwords) into a tenant."

    def add_arguments(self, parser):
        parser.add_argument("file", help="input file (.jsonl or .csv), or - for standard input")
        parser.add_argument("--tenant", required=True, help="tenant slug, API key or id")
        parser.add_argument(
            "--format", choices=["jsonl", "csv"], help="default: from the file name"
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--errors", help="error report (CSV: line,reason); default FILE.errors.csv"
        )
        parser.add_argument("--checkpoint", help="checkpoint file; default FILE.checkpoint")
        parser.add_argument(
            "--resume", action="store_true", help="skip the lines the checkpoint says are done"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args,
        file,
        tenant,
        format,
        batch_size,
        dry_run,
        errors,
        checkpoint,
        resume,
        no_progress,
        **options,
    ):
        tenant_obj = find_tenant(tenant)
        fmt = detect_format(file, format) if file != "-" else (format or "jsonl")
        base = file if file != "-" else "stdin"
        errors_path = errors or f"{base}.errors.csv"
        checkpoint_path = checkpoint or f"{base}.checkpoint"
        start_after = 0
        if resume:
            if file == "-":
                raise CommandError("--resume needs a file")
            start_after = checkpoint_line(checkpoint_path)
        total = count_lines(file) - (1 if fmt == "csv" else 0) if file != "-" else None
        progress = Progress(self.stderr, total, not no_progress)
        newline = "" if fmt == "csv" else None
        # Closed in the finally below (stdin is left open).
        stream = sys.stdin if file == "-" else open(file, newline=newline, encoding="utf-8-sig")  # noqa: SIM115
        report = open(errors_path, "a" if resume else "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            result = accounts_import(
                tenant=tenant_obj,
                stream=stream,
                fmt=fmt,
                report=report,
                checkpoint_path=checkpoint_path,
                source=base,
                start_after=start_after,
                batch_size=batch_size,
                dry_run=dry_run,
                progress=progress.update,
            )
        finally:
            report.close()
            if stream is not sys.stdin:
                stream.close()
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{verb} {result.imported} accounts, rejected {result.rejected} rows (report: {errors_path})"
        )
