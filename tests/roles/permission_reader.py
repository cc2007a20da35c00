"""A separate process answering effective-permission questions, one JSON line per request.

Reads `<tenant_id> <uid> [context]` lines on stdin and answers
`{"roles": [...], "permissions": [...], "role_queries": n}` where `role_queries` is how
many queries on role tables the answer cost (0 = served from the shared cache).
"""

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.selectors import account_get
    from portal.models import Tenant
    from roles.selectors import account_permissions

    print(
        json.dumps({"ready": True, "cache": django.conf.settings.CACHES["default"]["BACKEND"]}),
        flush=True,
    )
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        tenant = Tenant.objects.get(pk=int(parts[0]))
        account = account_get(tenant=tenant, uid=parts[1])
        context = parts[2] if len(parts) > 2 else None
        with CaptureQueriesContext(connection) as ctx:
            answer = account_permissions(tenant=tenant, account=account, context=context)
        role_queries = sum(1 for q in ctx.captured_queries if '"roles_' in q["sql"])
        print(
            json.dumps(
                {
                    "roles": list(answer.roles),
                    "permissions": list(answer.permissions),
                    "role_queries": role_queries,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
