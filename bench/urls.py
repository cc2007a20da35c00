"""The project's URLs plus the floor views under /bench/floor/."""

from django.urls import path

from bench import floor
from portal.urls import handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("bench/floor/account/<str:uid>", floor.account_by_uid),
    path("bench/floor/account-by-email", floor.account_by_email),
    path("bench/floor/rotate", floor.rotate),
    path("bench/floor/token", floor.token_read),
    path("bench/floor/permissions/<str:uid>", floor.permissions),
    path("bench/floor/customobject/<str:uid>/<str:record_id>", floor.custom_object),
    path("bench/floor/search", floor.search),
    *portal_urlpatterns,
]
