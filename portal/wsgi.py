import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Bodies sent without Content-Length are read here, at most REQUEST_BODY_MAX_BYTES.
from portal.middleware import BodyLimitWSGIMiddleware

application = BodyLimitWSGIMiddleware(get_wsgi_application())

from portal.startup import refuse_to_start_on_serious_checks  # noqa: E402

refuse_to_start_on_serious_checks()
