"""Tests for loading and validating the configuration (bot/config.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ENV_CONFIG, Config, ConfigError, load_config
from storage.engine import DEFAULT_SQLITE_URL

ROOT = Path(__file__).resolve().parents[1]

ALL_ENV = (
    ENV_CONFIG,
    "KUEMMERER_TELEGRAM_TOKEN",
    "KUEMMERER_MATRIX_PASSWORD",
    "KUEMMERER_MATRIX_ACCESS_TOKEN",
    "KUEMMERER_DATABASE_URL",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Run every test in an empty directory with none of the bot's variables set."""
    for name in ALL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_error(*args, **kwargs) -> str:
    """The message of the ConfigError ``load_config`` raises; it must be one line."""
    with pytest.raises(ConfigError) as info:
        load_config(*args, **kwargs)
    message = str(info.value)
    assert message and "\n" not in message, repr(message)
    return message


# --------------------------------------------------------------------------------------------
# Defaults and discovery
# --------------------------------------------------------------------------------------------


def test_defaults_without_any_file():
    config = load_config(environ={})
    assert isinstance(config, Config)
    assert config.source == "defaults"
    assert config.bot.language == "de"
    assert config.bot.timezone == "Europe/Berlin"
    assert config.storage.url == DEFAULT_SQLITE_URL
    assert config.telegram.token is None
    assert config.telegram.mode == "polling"
    assert config.matrix.homeserver is None
    assert config.adapters == ["console"]


def test_config_toml_in_cwd_is_found(isolated):
    write(isolated / "config.toml", '[bot]\nlanguage = "en"\ntimezone = "UTC"\n')
    config = load_config(environ={})
    assert config.source == "config.toml"
    assert (config.bot.language, config.bot.timezone) == ("en", "UTC")


def test_explicit_path_wins_over_cwd(isolated):
    write(isolated / "config.toml", '[bot]\nlanguage = "en"\n')
    other = write(isolated / "other.toml", '[bot]\ntimezone = "Asia/Tokyo"\n')
    config = load_config(str(other), environ={})
    assert config.source == str(other)
    assert config.bot.language == "de"
    assert config.bot.timezone == "Asia/Tokyo"


def test_env_config_variable_wins_over_cwd(isolated, monkeypatch):
    write(isolated / "config.toml", '[bot]\nlanguage = "en"\n')
    named = write(isolated / "named.toml", '[bot]\ntimezone = "UTC"\n')
    monkeypatch.setenv(ENV_CONFIG, str(named))
    config = load_config()
    assert config.source == str(named)
    assert (config.bot.language, config.bot.timezone) == ("de", "UTC")


def test_explicit_path_wins_over_env_config_variable(isolated, monkeypatch):
    monkeypatch.setenv(ENV_CONFIG, str(write(isolated / "named.toml", '[bot]\nlanguage = "en"\n')))
    explicit = write(isolated / "explicit.toml", "")
    assert load_config(str(explicit)).source == str(explicit)


def test_env_config_variable_is_read_from_given_environ(isolated):
    named = write(isolated / "named.toml", '[bot]\ntimezone = "UTC"\n')
    config = load_config(environ={ENV_CONFIG: str(named)})
    assert config.source == str(named)


def test_given_environ_isolates_from_process_env_config(isolated, monkeypatch):
    monkeypatch.setenv(ENV_CONFIG, str(isolated / "does-not-exist.toml"))
    assert load_config(environ={}).source == "defaults"


def test_env_config_variable_naming_a_missing_file(isolated, monkeypatch):
    monkeypatch.setenv(ENV_CONFIG, str(isolated / "nope.toml"))
    message = config_error()
    assert "not found" in message and "nope.toml" in message


# --------------------------------------------------------------------------------------------
# Environment overrides
# --------------------------------------------------------------------------------------------


def test_env_overrides_without_file():
    config = load_config(
        environ={
            "KUEMMERER_TELEGRAM_TOKEN": "123:abc",
            "KUEMMERER_DATABASE_URL": "postgresql://u:p@db/kuemmerer",
        }
    )
    assert config.telegram.token == "123:abc"
    assert config.storage.url == "postgresql://u:p@db/kuemmerer"
    assert config.adapters == ["telegram"]


def test_env_overrides_beat_file_values(isolated):
    path = write(
        isolated / "c.toml",
        '[telegram]\ntoken = "from-file"\n'
        '[matrix]\nhomeserver = "https://m.org"\nuser_id = "@k:m.org"\npassword = "file-pw"\n'
        '[storage]\nurl = "sqlite:///file.db"\n',
    )
    config = load_config(
        str(path),
        environ={
            "KUEMMERER_TELEGRAM_TOKEN": "from-env",
            "KUEMMERER_MATRIX_PASSWORD": "env-pw",
            "KUEMMERER_MATRIX_ACCESS_TOKEN": "env-at",
            "KUEMMERER_DATABASE_URL": "sqlite:///env.db",
        },
    )
    assert config.telegram.token == "from-env"
    assert config.matrix.password == "env-pw"
    assert config.matrix.access_token == "env-at"
    assert config.storage.url == "sqlite:///env.db"
    assert config.adapters == ["telegram", "matrix"]


def test_matrix_access_token_from_env_completes_credentials(isolated):
    path = write(isolated / "c.toml", '[matrix]\nhomeserver = "https://m.org"\nuser_id = "@k:m.org"\n')
    config = load_config(str(path), environ={"KUEMMERER_MATRIX_ACCESS_TOKEN": "syt_x"})
    assert config.matrix.access_token == "syt_x"
    assert config.adapters == ["matrix"]


def test_empty_env_values_are_ignored(isolated):
    path = write(isolated / "c.toml", '[telegram]\ntoken = "from-file"\n')
    config = load_config(str(path), environ={"KUEMMERER_TELEGRAM_TOKEN": "", "KUEMMERER_DATABASE_URL": ""})
    assert config.telegram.token == "from-file"
    assert config.storage.url == DEFAULT_SQLITE_URL


def test_process_environment_is_the_default(monkeypatch):
    monkeypatch.setenv("KUEMMERER_DATABASE_URL", "sqlite:///x.db")
    assert load_config().storage.url == "sqlite:///x.db"
    # An explicit (empty) environ ignores it.
    assert load_config(environ={}).storage.url == DEFAULT_SQLITE_URL


def test_env_override_is_validated():
    message = config_error(environ={"KUEMMERER_DATABASE_URL": "mysql://x/y"})
    assert "[storage] url" in message


def test_a_bad_env_value_is_blamed_on_the_variable_not_the_file(isolated):
    path = write(isolated / "c.toml", '[storage]\nurl = "sqlite:///ok.db"\n')
    message = config_error(str(path), environ={"KUEMMERER_DATABASE_URL": "mysql://x/y"})
    assert message.startswith("$KUEMMERER_DATABASE_URL ") and "[storage] url" in message
    assert str(path) not in message and "defaults" not in message
    # A bad value in the file is still the file's.
    path = write(isolated / "c.toml", '[storage]\nurl = "mysql://x/y"\n')
    assert config_error(str(path), environ={}).startswith(f"{path}: ")


def test_origin_names_the_variable_or_the_file(isolated):
    path = write(isolated / "c.toml", '[telegram]\ntoken = "from-file"\n')
    config = load_config(str(path), environ={"KUEMMERER_DATABASE_URL": "sqlite:///env.db"})
    assert config.origin("storage", "url") == "$KUEMMERER_DATABASE_URL"
    assert config.origin("telegram", "token") == f"[telegram] token in {path}"


def test_secrets_for_log_redaction():
    config = load_config(
        environ={
            "KUEMMERER_TELEGRAM_TOKEN": "123:abc",
            "KUEMMERER_MATRIX_ACCESS_TOKEN": "syt_x",
            "KUEMMERER_DATABASE_URL": "postgresql://u:db-password@db/kuemmerer",
        }
    )
    assert sorted(config.secrets()) == ["123:abc", "db-password", "syt_x"]


def test_env_override_into_a_non_table_section(isolated):
    path = write(isolated / "c.toml", 'storage = "x"\n')
    message = config_error(str(path), environ={"KUEMMERER_DATABASE_URL": "sqlite:///a.db"})
    assert "storage" in message


# --------------------------------------------------------------------------------------------
# adapters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "adapters"),
    [
        ("", ["console"]),
        ('[telegram]\ntoken = "t"\n', ["telegram"]),
        ('[matrix]\nhomeserver = "https://m"\nuser_id = "@b:m"\naccess_token = "a"\n', ["matrix"]),
        (
            '[telegram]\ntoken = "t"\n[matrix]\nhomeserver = "https://m"\nuser_id = "@b:m"\npassword = "p"\n',
            ["telegram", "matrix"],
        ),
        ('[telegram]\nmode = "webhook"\n', ["console"]),
    ],
)
def test_adapters(isolated, toml, adapters):
    path = write(isolated / "c.toml", toml)
    assert load_config(str(path), environ={}).adapters == adapters


def test_webhook_complete(isolated):
    path = write(
        isolated / "c.toml",
        '[telegram]\ntoken = "t"\nmode = "webhook"\nwebhook_url = "https://bot.example/tg"\n'
        'webhook_secret = "s3cret"\nwebhook_port = 8080\n',
    )
    config = load_config(str(path), environ={})
    assert config.telegram.mode == "webhook"
    assert config.telegram.webhook_port == 8080


# --------------------------------------------------------------------------------------------
# Invalid configurations: one line naming the key
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[bot]\nlanguag = "de"\n', ["[bot] languag", "unknown key"]),
        ('[telegram]\ntokn = "x"\n', ["[telegram] tokn", "unknown key"]),
        ('[bott]\nlanguage = "de"\n', ["bott", "unknown key"]),
        ('[bot]\ntimezone = "Mars/Olympus"\n', ["[bot] timezone", "Mars/Olympus"]),
        ('[bot]\ntimezone = "../../etc/passwd"\n', ["[bot] timezone"]),
        ('[bot]\nlanguage = "fr"\n', ["[bot] language"]),
        ('[telegram]\ntoken = "t"\nmode = "push"\n', ["[telegram] mode"]),
        ("[telegram]\nwebhook_port = 70000\n", ["[telegram] webhook_port"]),
        ('[storage]\nurl = "mysql://x/y"\n', ["[storage] url"]),
        ('[telegram]\ntoken = "t"\nmode = "webhook"\n', ["telegram", "webhook_url", "webhook_secret"]),
        (
            '[telegram]\ntoken = "t"\nmode = "webhook"\nwebhook_url = "https://x"\n',
            ["telegram", "webhook_secret"],
        ),
        (
            '[telegram]\ntoken = "t"\nmode = "webhook"\nwebhook_secret = "s"\n',
            ["telegram", "webhook_url"],
        ),
        ('[matrix]\nhomeserver = "https://m"\nuser_id = "@b:m"\n', ["matrix", "password", "access_token"]),
        ('[matrix]\nhomeserver = "https://m"\npassword = "p"\n', ["matrix", "user_id"]),
    ],
    ids=[
        "unknown-key",
        "unknown-telegram-key",
        "unknown-section",
        "bad-timezone",
        "path-timezone",
        "bad-language",
        "bad-mode",
        "bad-port",
        "bad-db-url",
        "webhook-no-url-no-secret",
        "webhook-no-secret",
        "webhook-no-url",
        "matrix-no-credentials",
        "matrix-no-user",
    ],
)
def test_invalid_config(isolated, toml, expected):
    path = write(isolated / "c.toml", toml)
    message = config_error(str(path), environ={})
    assert message.startswith(f"{path}: "), message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "pydantic" not in message and "errors.pydantic.dev" not in message


def test_internal_source_attribute_is_not_a_config_key(isolated):
    path = write(isolated / "c.toml", 'source = "x"\n')
    message = config_error(str(path), environ={})
    assert "source" in message and "unknown key" in message


def test_broken_toml(isolated):
    path = write(isolated / "c.toml", '[bot\nlanguage = "de"\n')
    message = config_error(str(path), environ={})
    assert str(path) in message and "TOML" in message


def test_broken_toml_in_discovered_file(isolated):
    write(isolated / "config.toml", "language = \n")
    assert "config.toml" in config_error(environ={})


def test_undecodable_file(isolated):
    path = isolated / "c.toml"
    path.write_bytes(b'[bot]\nlanguage = "\xff\xfe"\n')
    assert str(path) in config_error(str(path), environ={})


def test_missing_explicit_file(isolated):
    message = config_error(str(isolated / "missing.toml"), environ={})
    assert "not found" in message and "missing.toml" in message


def test_directory_as_config(isolated):
    (isolated / "dir.toml").mkdir()
    assert "dir.toml" in config_error(str(isolated / "dir.toml"), environ={})


# --------------------------------------------------------------------------------------------
# The shipped example
# --------------------------------------------------------------------------------------------


def test_example_config_is_valid():
    example = ROOT / "config.example.toml"
    if not example.is_file():
        pytest.skip("config.example.toml does not exist (yet)")
    config = load_config(str(example), environ={})
    assert config.source == str(example)
    assert config.bot.language in ("de", "en")
    assert config.adapters == ["console"]


def test_example_config_documents_only_real_keys(isolated):
    """Uncommenting every ``# key = value`` line of the example still gives a valid config."""
    example = ROOT / "config.example.toml"
    if not example.is_file():
        pytest.skip("config.example.toml does not exist (yet)")
    text = example.read_text(encoding="utf-8")
    uncommented = re.sub(r"(?m)^# (?=[a-z_]+ = )", "", text)
    assert uncommented != text, "the example documents no optional keys"
    path = write(isolated / "full.toml", uncommented)
    config = load_config(str(path), environ={})
    assert config.adapters == ["telegram", "matrix"]
