"""Case-insensitive URL routes: SDKs and docs mix `2FA`/`2fa`, `roleContext`/`rolecontext`."""

import re
from functools import partial

from django.urls.conf import _path
from django.urls.resolvers import RoutePattern
from django.utils.functional import cached_property


class CaseInsensitiveRoutePattern(RoutePattern):
    @cached_property
    def regex(self):
        return re.compile(self._regex, re.IGNORECASE)


lr_path = partial(_path, Pattern=CaseInsensitiveRoutePattern)
