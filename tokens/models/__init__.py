"""Models of the tokens app: sessions (access/refresh tokens) and multipurpose tokens with
their outbox. Each lives in its own module; this package re-exports them for Django."""

from tokens.models.multipurpose import *  # noqa: F403
from tokens.models.sessions import *  # noqa: F403
