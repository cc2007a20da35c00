"""The account password policy: which new passwords a tenant accepts.

LoginRadius's rules, each a tenant setting (portal.models.TENANT_SETTING_DEFAULTS): a
length between `password_min_length` (6) and `password_max_length` (32) characters, the
character classes of `password_required_character_classes` (none), and, with
`password_common_check` (on), not one of Django's list of about 20,000 common passwords.

Pure: `password_judge` takes the tenant's settings and a password and raises
PasswordPolicyRefused naming every rule the password fails; it reads and writes nothing.
Only a password given in clear is judged: a stored or imported hash never is.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

from accounts.errors import PasswordPolicyRefused
from portal.models import TENANT_SETTING_DEFAULTS

# The tenant settings the policy reads.
SETTINGS = (
    "password_min_length",
    "password_max_length",
    "password_required_character_classes",
    "password_common_check",
)

# The lengths a policy may ask for; no longer password is ever hashed.
LENGTH_FLOOR = 1
LENGTH_CEILING = 256

# Each character class: what the refusal calls it, and which characters belong to it.
CHARACTER_CLASSES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "lowercase": ("a lowercase letter", str.islower),
    "uppercase": ("an uppercase letter", str.isupper),
    "digit": ("a digit", str.isdigit),
    "special": ("a special character (neither a letter nor a digit)", lambda c: not c.isalnum()),
}


def _length(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = default
    return min(max(number, LENGTH_FLOOR), LENGTH_CEILING)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    max_length: int
    required_classes: tuple[str, ...]
    common_check: bool

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "PasswordPolicy":
        """The policy of these settings; a missing one takes its default. Values the console
        form refuses (the settings can be written elsewhere) are made usable rather than
        refusing every password: lengths are kept within 1 to 256, a minimum above the
        maximum raises the maximum, unknown class names are ignored."""

        def value(name: str) -> Any:
            return settings.get(name, TENANT_SETTING_DEFAULTS[name])

        low = _length(value("password_min_length"), 6)
        high = max(_length(value("password_max_length"), 32), low)
        classes = value("password_required_character_classes")
        if isinstance(classes, str):
            classes = classes.split(",")
        if not isinstance(classes, list | tuple):
            classes = ()
        wanted = {str(name).strip().lower() for name in classes}
        return cls(
            min_length=low,
            max_length=high,
            required_classes=tuple(name for name in CHARACTER_CLASSES if name in wanted),
            common_check=bool(value("password_common_check")),
        )

    def failures(self, password: str) -> list[tuple[str, str]]:
        """(rule, sentence) for every rule `password` fails, in the order of the settings."""
        found: list[tuple[str, str]] = []
        if len(password) < self.min_length:
            found.append(
                (
                    "min_length",
                    f"The password is too short: it must have at least {self.min_length} "
                    "characters.",
                )
            )
        if len(password) > self.max_length:
            found.append(
                (
                    "max_length",
                    f"The password is too long: it may have at most {self.max_length} characters.",
                )
            )
        for name in self.required_classes:
            label, belongs = CHARACTER_CLASSES[name]
            if not any(belongs(c) for c in password):
                found.append((f"character_class.{name}", f"The password must contain {label}."))
        if self.common_check and _is_common(password):
            found.append(
                ("common", "The password is too common: it is on a list of much-used passwords.")
            )
        return found


@cache
def _common_validator() -> CommonPasswordValidator:
    # Reads and unpacks Django's list once per process.
    return CommonPasswordValidator()


def _is_common(password: str) -> bool:
    try:
        _common_validator().validate(password)
    except ValidationError:
        return True
    return False


def password_judge(password: str, *, settings: Mapping[str, Any]) -> None:
    """Refuse (PasswordPolicyRefused) a new password the policy of `settings` does not
    accept, naming every rule it fails."""
    failures = PasswordPolicy.from_settings(settings).failures(password)
    if failures:
        raise PasswordPolicyRefused(failures)
