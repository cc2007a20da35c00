from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import encryption_keys

MAX_LISTED = 10
# Each rewritten row binds three parameters; PostgreSQL takes at most 65,535 per statement.
MAX_BATCH_SIZE = 5000


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (found by field type) under the first key of "
        "FIELD_ENCRYPTION_KEY, in batches of locked rows, one progress line per batch. "
        "Values already under that key are skipped: an interrupted run started again "
        "continues where it stopped, and a repeated run writes nothing. Once a run reports "
        "nothing left (or --check passes), older keys may be removed from the list."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help=(
                "rows read, locked and rewritten per transaction "
                f"(default 500, at most {MAX_BATCH_SIZE})"
            ),
        )
        parser.add_argument(
            "--max-batches",
            type=int,
            metavar="N",
            help="stop after N batches (to spread the work out); run again to continue",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; fail if any value is not under the first key yet",
        )

    def handle(self, *args, batch_size, max_batches, check, **options):
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
        if max_batches is not None and max_batches < 1:
            raise CommandError("--max-batches must be at least 1")
        columns = encryption_keys.encrypted_columns()
        key_count = len(settings.FIELD_ENCRYPTION_KEY.split(","))
        self.stdout.write(
            f"{len(columns)} encrypted columns; {key_count} key(s) in FIELD_ENCRYPTION_KEY, "
            "the first one encrypts"
        )
        if check:
            self._check(columns, batch_size)
            return
        batches = reencrypted = 0
        undecryptable: list[str] = []
        for column in columns:
            total = column.rows().count()
            read = done = 0
            after_pk = None
            while True:
                if max_batches is not None and batches >= max_batches:
                    self.stdout.write(
                        f"Stopped after {batches} batches (--max-batches); {reencrypted} "
                        "values re-encrypted. Run the command again to continue."
                    )
                    return
                batch = encryption_keys.reencrypt_batch(
                    column=column, after_pk=after_pk, size=batch_size
                )
                if batch is None:
                    break
                batches += 1
                after_pk = batch.last_pk
                read += batch.read
                done += batch.reencrypted
                reencrypted += batch.reencrypted
                undecryptable += [f"{column.label} pk={pk}" for pk in batch.undecryptable]
                self.stdout.write(
                    f"{column.label}: {read}/{total} read ({_percent(read, total)}), "
                    f"{done} re-encrypted"
                )
            if not read:
                self.stdout.write(f"{column.label}: no values")
        if undecryptable:
            raise CommandError(
                f"{reencrypted} values re-encrypted, but {len(undecryptable)} could not be "
                "decrypted by any key in FIELD_ENCRYPTION_KEY and were left as they are: "
                + ", ".join(undecryptable[:MAX_LISTED])
            )
        self.stdout.write(
            f"Done: {reencrypted} values re-encrypted; every value read is under the first key. "
            "Run with --check once every process has the new key list, then the older keys "
            "may be removed."
        )

    def _check(self, columns, batch_size):
        behind: list[str] = []
        for column in columns:
            pks = list(encryption_keys.values_not_under_newest_key(column=column, size=batch_size))
            self.stdout.write(f"{column.label}: {len(pks)} values not under the first key")
            behind += [f"{column.label} pk={pk}" for pk in pks]
        if behind:
            raise CommandError(
                f"{len(behind)} values are not under the first key yet (run the command "
                "without --check; a value no key decrypts is listed again): "
                + ", ".join(behind[:MAX_LISTED])
            )
        self.stdout.write("Every encrypted value is under the first key.")


def _percent(part: int, whole: int) -> str:
    # Rows inserted during the run can take `part` past the count made at the start.
    return f"{min(100, 100 * part // whole) if whole else 100}%"
