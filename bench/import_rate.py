"""Measure accounts_import with pre-hashed passwords.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.import_rate --rows 100000

Writes a JSON Lines file (emails, phone, names, profile fields, a role, and a pre-hashed
password: Django PBKDF2 and LoginRadius Rfc2898DeriveBytes formats alternating), imports it
into a fresh tenant and prints accounts per second.
"""

import argparse
import base64
import hashlib
import json
import os
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from portal import services  # noqa: E402
from portal.audit import Actor  # noqa: E402
from portal.tenant_commands import TenantCreate  # noqa: E402
from roles.models import Role  # noqa: E402


def write_file(path: Path, rows: int) -> None:
    salt = base64.b64encode(b"0123456789abcdef").decode()
    key = base64.b64encode(
        hashlib.pbkdf2_hmac("sha1", b"secret", b"0123456789abcdef", 1000, 32)
    ).decode()
    hashes = [
        "pbkdf2_sha256$1000000$abcdefgh$" + "B" * 43 + "=",
        f"Rfc2898DeriveBytes$1000${salt}${key}",
    ]
    with path.open("w") as fh:
        for i in range(rows):
            fh.write(
                json.dumps(
                    {
                        "Uid": f"imp{i:08d}",
                        "Email": [{"Type": "Primary", "Value": f"import{i}@example.org"}],
                        "EmailVerified": i % 2 == 0,
                        "PhoneId": f"+1300{i:07d}",
                        "FirstName": "Imported",
                        "LastName": f"Person{i % 997}",
                        "Gender": "F",
                        "City": "Porto",
                        "Roles": ["member"],
                        "CustomFields": {"source": "legacy"},
                        "Password": hashes[i % 2],
                    }
                )
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    work = Path(settings.BASE_DIR) / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"import-{args.rows}.jsonl"
    write_file(path, args.rows)
    command = TenantCreate(name="Import rate", slug=f"import-{int(time.time())}")
    tenant, _ = services.tenant_create(command, actor=Actor.system("bench"))
    Role.objects.create(tenant=tenant, name="member", permissions=["read"])
    t0 = time.monotonic()
    call_command(
        "accounts_import",
        str(path),
        "--tenant",
        tenant.slug,
        "--batch-size",
        str(args.batch_size),
        "--errors",
        str(path) + ".errors.csv",
        "--checkpoint",
        str(path) + ".checkpoint",
    )
    elapsed = time.monotonic() - t0
    print(
        json.dumps(
            {
                "rows": args.rows,
                "seconds": round(elapsed, 1),
                "accounts_per_second": round(args.rows / elapsed),
            }
        )
    )


if __name__ == "__main__":
    main()
