"""API keys for live venues: from environment variables or the OS keyring, never printed or logged.

``load_credentials("BINANCE_USDM")`` reads ``SPREADLAB_BINANCE_USDM_API_KEY`` and
``SPREADLAB_BINANCE_USDM_API_SECRET`` (a missing variable falls back to the keyring service
``spreadlab`` with the user names ``BINANCE_USDM_API_KEY`` / ``..._API_SECRET`` when the
``keyring`` package is installed). :class:`ApiCredentials` hides both values in ``repr`` and
``str``; :class:`RedactSecrets` is a logging filter that replaces them in any record that would
carry them, and :func:`install_redaction` puts it on the root handlers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from spreadlab.errors import ConfigError

__all__ = ["ApiCredentials", "RedactSecrets", "install_redaction", "load_credentials"]

_KEYRING_SERVICE = "spreadlab"
_MASK = "***"


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """An API key and its secret (and a passphrase where the venue has one)."""

    key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    source: str = "env"

    def __repr__(self) -> str:
        return f"ApiCredentials(key={_MASK}, secret={_MASK}, source={self.source!r})"

    __str__ = __repr__

    def values(self) -> tuple[str, ...]:
        """The secret strings (for redaction)."""
        return tuple(v for v in (self.key, self.secret, self.passphrase) if v)


def _from_keyring(name: str) -> str | None:
    try:
        import keyring  # optional: the OS keyring
    except ImportError:
        return None
    try:
        value = keyring.get_password(_KEYRING_SERVICE, name)
    except Exception:  # a keyring backend that is not set up answers with its own errors
        return None
    return value or None


def load_credentials(
    venue: str, *, env: Mapping[str, str] | None = None, use_keyring: bool = True
) -> ApiCredentials:
    """Read the key pair of ``venue`` from ``SPREADLAB_<VENUE>_API_KEY`` / ``_API_SECRET``.

    Raises :class:`~spreadlab.errors.ConfigError` naming the variables (never their values)
    when either is missing from both the environment and the keyring.

    Examples
    --------
    >>> creds = load_credentials("DERIBIT", env={"SPREADLAB_DERIBIT_API_KEY": "k",
    ...                                          "SPREADLAB_DERIBIT_API_SECRET": "s"})
    >>> creds
    ApiCredentials(key=***, secret=***, source='env')
    """
    source = os.environ if env is None else env
    prefix = f"SPREADLAB_{venue.upper()}_"
    found: dict[str, str] = {}
    origin = "env"
    for part in ("API_KEY", "API_SECRET", "API_PASSPHRASE"):
        value = source.get(prefix + part)
        if not value and use_keyring:
            value = _from_keyring(f"{venue.upper()}_{part}")
            if value:
                origin = "keyring"
        if value:
            found[part] = value
    missing = [prefix + p for p in ("API_KEY", "API_SECRET") if p not in found]
    if missing:
        raise ConfigError(
            f"no API credentials for {venue}: set {' and '.join(missing)} "
            f"(or store them in the OS keyring, service {_KEYRING_SERVICE!r})"
        )
    return ApiCredentials(
        key=found["API_KEY"],
        secret=found["API_SECRET"],
        passphrase=found.get("API_PASSPHRASE", ""),
        source=origin,
    )


class RedactSecrets(logging.Filter):
    """Replace every secret string in a log record (message, arguments, exception text) by ``***``."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``***``."""
        for s in self.secrets:
            text = text.replace(s, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; always keep it."""
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_redaction(credentials: ApiCredentials, logger: logging.Logger | None = None) -> RedactSecrets:
    """Attach a :class:`RedactSecrets` for ``credentials`` to ``logger``'s handlers (default: root)."""
    flt = RedactSecrets(*credentials.values())
    target = logger or logging.getLogger()
    target.addFilter(flt)
    for handler in target.handlers:
        handler.addFilter(flt)
    return flt
