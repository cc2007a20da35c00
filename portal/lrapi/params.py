"""Case-insensitive access to query parameters and JSON bodies, as the .NET original allows."""

from collections.abc import Iterator, Mapping
from typing import Any

from portal.lrapi.errors import LRError
from portal.lrapi.parsers import SURROGATE_RE
from portal.spellings import FALSE_VALUES, TRUE_VALUES


def parse_bool(value: Any, *, name: str = "parameter") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise LRError(908, f"The {name} must be true or false.")


class CIQuery:
    """Query parameters looked up by name in any case (`apiKey`, `apikey`, `APIKEY`)."""

    def __init__(self, querydict):
        self._values: dict[str, str] = {}
        for key in querydict:
            # The first spelling wins; SDKs never send two spellings of one name.
            self._values.setdefault(key.lower(), querydict.get(key))
        # Django decodes the query with replacement characters, so this guards values that
        # reach the layer some other way; a lone surrogate fails wherever it is encoded.
        if any(SURROGATE_RE.search(f"{k}{v}") for k, v in self._values.items()):
            raise LRError(
                908,
                "A query parameter carries a lone UTF-16 surrogate, which is not valid Unicode text.",
            )

    @classmethod
    def of(cls, request) -> "CIQuery":
        """The query parameters of `request` (Django's or DRF's), read once per request:
        authentication and the view both ask."""
        request = getattr(request, "_request", request)
        try:
            return request.portal_ci_query
        except AttributeError:
            query = request.portal_ci_query = cls(request.GET)
            return query

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        return default if value is None else parse_bool(value, name=name)

    def get_plus_preserving(self, name: str) -> str | None:
        """An email or phone value: the v11 Python SDK does not URL-encode, so `+` arrives
        as a space; neither an email nor an E.164 number can contain a space."""
        value = self.get(name)
        return None if value is None else value.replace(" ", "+").strip()

    def names(self) -> set[str]:
        return set(self._values)


class CIBody(Mapping):
    """A JSON object whose keys are matched case-insensitively; nested objects are too."""

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data = dict(data or {})
        self._index = {}
        for key in self._data:
            self._index.setdefault(str(key).lower(), key)

    def __getitem__(self, name: str) -> Any:
        value = self._data[self._index[name.lower()]]
        return CIBody(value) if isinstance(value, dict) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def original_key(self, name: str) -> str | None:
        return self._index.get(name.lower())

    def raw(self) -> dict[str, Any]:
        return dict(self._data)


def canonical_keys(
    body: Mapping[str, Any], known: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Map keys of `body` onto canonical names (`known` is `{lowercase: Canonical}`).

    Returns the renamed dict and the keys that matched nothing, so callers can refuse
    unknown fields with a clear error.
    """
    renamed: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in body.items():
        canonical = known.get(str(key).lower())
        if canonical is None:
            unknown.append(str(key))
        else:
            renamed[canonical] = value
    return renamed, unknown
