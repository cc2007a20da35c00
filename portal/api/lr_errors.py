"""The LoginRadius rows of the core's own errors declared outside portal/errors.py
(imported from PortalConfig.ready(), so the rows exist before any request)."""

from portal.access_grants import AccessGrantNotFound, AccessGrantRefused
from portal.lrapi.domain_errors import LRMapping, register_mappings
from portal.tenant_settings import TenantSettingsVersionStale

register_mappings(
    {
        TenantSettingsVersionStale: LRMapping(9412, message_is_description=True),
        AccessGrantRefused: LRMapping(1143, message_is_description=True),
        AccessGrantNotFound: LRMapping(404, message_is_description=True),
    }
)
