"""The production Argon2 hasher, counting every full-cost check it makes and with which
parameters, so a test can compare what two sign-in paths cost without a clock."""

from typing import ClassVar

from accounts.hashers import ConfiguredArgon2PasswordHasher


class CountingArgon2PasswordHasher(ConfiguredArgon2PasswordHasher):
    checks: ClassVar[list[tuple[int, int, int]]] = []

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        CountingArgon2PasswordHasher.checks.append(
            (decoded["memory_cost"], decoded["time_cost"], decoded["parallelism"])
        )
        return super().verify(password, encoded)
