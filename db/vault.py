"""Secrets at rest: Slack tokens sealed with Fernet (cryptography) before they reach the database.

``SPROUT_SECRET_KEY`` holds one or more Fernet keys, comma-separated, newest first. Tokens are sealed
with the newest; any of them opens a token, so a key is rotated by putting the new one first, running
``python app.py secrets rotate`` (every stored token sealed again with it), then dropping the old one.
A sealed token is a Fernet token (``gAAAAA…``), never a Slack token (``xox…``), so one stored in plain
text by an earlier version is told apart and sealed at the next start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, column, select, table, update

SEALED_PREFIX = "gAAAAA"  # Fernet's version byte (0x80) and the first timestamp bytes, base64
HOW_TO_MAKE_A_KEY = "make one with: python app.py secrets new-key"

# slack-sdk's installation tables (migration 0007) and the columns holding tokens.
TOKEN_COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


class VaultError(ValueError):
    """A key that cannot be used, or a sealed token no key opens."""


def new_key() -> str:
    return Fernet.generate_key().decode()


class Vault:
    """Seal and open secrets with the keys of ``SPROUT_SECRET_KEY`` (newest first)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError(f"no key: {HOW_TO_MAKE_A_KEY}")
        fernets = []
        for number, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode()))
            except (ValueError, TypeError):
                raise VaultError(f"SPROUT_SECRET_KEY's key {number} is not a Fernet key (32 url-safe base64 bytes); "
                                 f"{HOW_TO_MAKE_A_KEY}") from None
        self._keys = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: str) -> Vault:
        return cls([key for key in value.split(",") if key.strip()])

    @staticmethod
    def is_sealed(value: str | None) -> bool:
        return bool(value) and value.startswith(SEALED_PREFIX)

    def seal(self, secret: str | None) -> str | None:
        if secret is None or self.is_sealed(secret):
            return secret
        return self._keys.encrypt(secret.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The secret; a value stored in plain text by an earlier version comes back as it is."""
        if not self.is_sealed(stored):
            return stored
        try:
            return self._keys.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise VaultError("a stored token is sealed with a key SPROUT_SECRET_KEY no longer holds: "
                             "put the old key back (after the new one) and run `python app.py secrets rotate`") from None

    def reseal(self, stored: str | None) -> str | None:
        """Sealed again with the newest key (a plain one sealed for the first time)."""
        if stored is None:
            return None
        if not self.is_sealed(stored):
            return self.seal(stored)
        try:
            return self._keys.rotate(stored.encode()).decode()
        except InvalidToken:
            raise VaultError("a stored token is sealed with a key SPROUT_SECRET_KEY does not hold: "
                             "add the key it was sealed with (after the new one) and run rotate again") from None


def reseal_tokens(engine: Engine, change: Callable[[str | None], str | None], *, only_plain: bool = False) -> int:
    """Apply ``change`` to every stored token, in one transaction; how many values changed.

    ``only_plain``: touch only tokens still in plain text (a start after upgrading from a version that
    stored them so), leaving sealed ones alone."""
    changed = 0
    with engine.begin() as conn:
        for name, columns in TOKEN_COLUMNS.items():
            tokens = table(name, column("id"), *(column(c) for c in columns))
            for row in conn.execute(select(tokens)).all():
                values = {}
                for c in columns:
                    current = getattr(row, c)
                    if current is None or (only_plain and Vault.is_sealed(current)):
                        continue
                    new = change(current)
                    if new != current:
                        values[c] = new
                if values:
                    conn.execute(update(tokens).where(tokens.c.id == row.id).values(**values))
                    changed += len(values)
    return changed
