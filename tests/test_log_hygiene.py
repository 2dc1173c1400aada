"""Log hygiene: no secret at any level, no message text or name at INFO and above.

The unit tests check ``bot.core.logsafe`` on its own. The end-to-end tests run ``kuemmerer run``
as an operator would, with Telegram (the fake Bot API over real HTTP) and Matrix (a real
Synapse) in one process, drive a short conversation on both (a command, a plain message, a
command that fails like a bug) and search the process's stderr.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import logsafe
from bot.core.events import (
    ChatKind,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    Platform,
    PollAnswered,
    QuotedMessage,
    UserRef,
)
from tests.adapters.matrix.conftest import MatrixUser, unique
from tests.fakes.synapse import SynapseServer, synapse_server  # noqa: F401  (fixture)
from tests.fakes.telegram_api import FakeTelegramServer

REPO = Path(__file__).resolve().parent.parent
TOKEN = "7000000001:AAHygieneTokenForKuemmererTests_0123456789"


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    """Secrets are process-wide: every test starts and ends without any."""
    logsafe.forget_secrets()
    yield
    logsafe.forget_secrets()


def captured(logger_name: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger whose records go to a string through a handler with the secret filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logsafe.install(logging.DEBUG, handlers=[handler])
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


# --------------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getMe", TOKEN),
        ("GET http://127.0.0.1:1/bot42:SECRET/getUpdates", "42:SECRET"),
        (f"The token `{TOKEN}` was rejected by the server.", TOKEN),
        ("GET /_matrix/client/v3/sync?access_token=syt_abc_123&since=s1", "syt_abc_123"),
        ("Validating response: {'user_id': '@k:m', 'access_token': 'syt_def_456'}", "syt_def_456"),
        ('{"type": "m.login.password", "password": "hunter2!"}', "hunter2!"),
        ("Authorization: Bearer syt_ghi_789", "syt_ghi_789"),
        ("connect postgresql+asyncpg://kuemmerer:pg-pass@db:5432/k failed", "pg-pass"),
        ("header X-Telegram-Bot-Api-Secret-Token: whsecret", "whsecret"),
    ],
    ids=["bot-url", "short-bot-url", "bare-token", "query", "dict", "json", "bearer", "db-url", "header"],
)
def test_well_known_shapes_are_redacted_without_registration(text, secret):
    redacted = logsafe.redact(text)
    assert secret not in redacted
    assert logsafe.REDACTED in redacted


def test_registered_secrets_are_redacted_anywhere():
    logsafe.register_secret("correct horse battery", None, "")
    assert logsafe.redact("pw=correct horse battery.") == f"pw={logsafe.REDACTED}."


def test_short_values_are_not_treated_as_secrets():
    logsafe.register_secret("abc")
    assert logsafe.redact("abc abc") == "abc abc"


def test_filter_redacts_arguments_tracebacks_and_late_secrets():
    logger, stream = captured("tests.logsafe.filter")
    logger.debug("calling %s with %r", f"/bot{TOKEN}/sendMessage", {"text": "hi"})
    # A secret learnt at run time (a Matrix login) counts from then on, at every level.
    logsafe.register_secret("syt_learnt_at_runtime")
    logger.info("token %s", "syt_learnt_at_runtime")
    try:
        raise RuntimeError("login with syt_learnt_at_runtime failed")
    except RuntimeError:
        logger.exception("failed")
    logger.warning("%s", logsafe.REDACTED)
    output = stream.getvalue()
    assert TOKEN not in output and "syt_learnt_at_runtime" not in output
    assert f"/bot{logsafe.REDACTED}/sendMessage" in output
    assert "Traceback" in output and "RuntimeError: login with" in output


def test_install_quietens_request_lines_unless_debug():
    chatty = [logging.getLogger(name) for name in logsafe.CHATTY_LOGGERS]
    before = [logger.level for logger in chatty]
    try:
        for logger in chatty:
            logger.setLevel(logging.NOTSET)
        logsafe.install(logging.DEBUG, handlers=[])
        assert logging.getLogger("httpx").level == logging.NOTSET
        logsafe.install(logging.INFO, handlers=[])
        assert logging.getLogger("httpx").level == logging.WARNING
        assert logging.getLogger("nio").level == logging.WARNING
    finally:
        for logger, level in zip(chatty, before, strict=True):
            logger.setLevel(level)


# --------------------------------------------------------------------------------------------
# describe_event
# --------------------------------------------------------------------------------------------

ANNA = UserRef(Platform.TELEGRAM, "5", "Annegret Beispiel", "annegret_b")
GROUP = ChatRef(Platform.TELEGRAM, "-100500", ChatKind.GROUP, "AG Geheimgarten")


def test_a_message_is_described_by_ids_only():
    event = IncomingMessage(
        GROUP,
        ANNA,
        "Vertraulicher Text",
        "17",
        True,
        QuotedMessage("16", "Zitierter Text", ANNA),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    line = logsafe.describe_event(event)
    assert line == (
        "IncomingMessage(chat=telegram:-100500/group, sender=5, text=<18 chars>, message_id=17, "
        "sender_is_admin=True, reply_to=16)"
    )


@pytest.mark.parametrize(
    "event",
    [
        MemberJoined(GROUP, (ANNA, UserRef(Platform.TELEGRAM, "6", "Bernd Zweiter"))),
        PollAnswered(Platform.MATRIX, "$poll", ANNA, (0, 2)),
    ],
    ids=["joined", "poll"],
)
def test_other_events_show_no_names(event):
    line = logsafe.describe_event(event)
    assert line.startswith(type(event).__name__ + "(")
    for private in ("Annegret", "annegret_b", "Bernd", "Geheimgarten"):
        assert private not in line
    assert "5" in line


def test_anything_else_is_its_type_name():
    assert logsafe.describe_event({"text": "geheim"}) == "dict"


# --------------------------------------------------------------------------------------------
# The real bot at DEBUG and at INFO
# --------------------------------------------------------------------------------------------

# Starts the bot as `kuemmerer` does, with one command that fails like a bug would: the
# application's error path is part of what is checked.
BOOT = """
import sys
from bot.core.router import Router
_dispatch = Router.dispatch
async def dispatch(self, ctx, invocation):
    if invocation.name == "kaputt":
        raise RuntimeError("simulated bug")
    return await _dispatch(self, ctx, invocation)
Router.dispatch = dispatch
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""

TG_GROUP, TG_USER = -100777, 55
TG_FIRST, TG_LAST, TG_USERNAME = "Wiebke", "Zauberlehrling", "wiebke_zl"
MX_DISPLAY = "Ottilie Quellwasser"
PLAIN_TG = "Unser vertrauliches Gartenprotokoll Nummer sieben"
PLAIN_MX = "Die geheime Gießliste liegt im Schuppen"
AG_NAME = "AG Schattenbeet"
ERROR_ID = re.compile(r"`?([0-9a-f]{8})`?")


async def run_session(tmp_path: Path, level: str, synapse: SynapseServer) -> tuple[str, str, list[str]]:
    """Run the bot on both platforms through a short conversation at ``level``.

    Returns:
        The bot's stderr, its Matrix password and the error ids its replies quoted.
    """
    localpart, password = unique("kuemmerer"), "bot-password-" + unique("pw")
    await synapse.aregister_user(localpart, password)
    bot_id = synapse.user_id(localpart)
    error_ids: list[str] = []
    async with FakeTelegramServer() as telegram:
        telegram.add_user(TG_USER, TG_FIRST, username=TG_USERNAME, last_name=TG_LAST)
        telegram.add_chat(TG_GROUP, type="supergroup", title="Gartengruppe")
        telegram.set_admins(TG_GROUP, [TG_USER])
        config = tmp_path / "config.toml"
        config.write_text(
            f'[bot]\nreopen_embedder = "lexical"\n'
            f'[storage]\nurl = "sqlite:///{tmp_path}/bot.sqlite3"\n'
            f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{telegram.base_url}"\npoll_timeout = 1\n'
            f'[matrix]\nhomeserver = "{synapse.base_url}"\nuser_id = "{bot_id}"\n'
            f'password = "{password}"\nsync_timeout_ms = 1000\nstore_path = "{tmp_path}/store"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUEMMERER_")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            BOOT,
            "run",
            "--config",
            str(config),
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO), "KUEMMERER_LOG_LEVEL": level},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        # Read stderr while the bot runs: at DEBUG it writes more than a pipe holds.
        reader = asyncio.create_task(process.stderr.read())
        anna = MatrixUser(await synapse.client_for(unique("ottilie")))
        try:
            await anna.client.set_displayname(MX_DISPLAY)
            await anna.sync()
            room = await anna.create_room(bot_id, name="Schattenbeet-Raum")
            await anna.wait_joined(room, bot_id, timeout=60)
            assert "angelegt" in await anna.command(room, f"!ag anlegen {AG_NAME}")
            await anna.send(room, PLAIN_MX)
            error_ids.append(ERROR_ID.findall(await anna.command(room, "!kaputt"))[-1])

            await telegram.wait_for_calls("getUpdates", 1, timeout=30)
            telegram.inject_message(TG_GROUP, TG_USER, f"/ag anlegen {AG_NAME}")
            [created] = await telegram.wait_for_messages(TG_GROUP, 1, timeout=30)
            assert "angelegt" in created["text"]
            telegram.inject_message(TG_GROUP, TG_USER, PLAIN_TG)
            telegram.inject_message(TG_GROUP, TG_USER, "/kaputt")
            failed = (await telegram.wait_for_messages(TG_GROUP, 2, timeout=30))[1]
            error_ids.append(ERROR_ID.findall(failed["text"])[-1])
        finally:
            await anna.client.close()
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            stderr = (await asyncio.wait_for(reader, timeout=30)).decode()
            status = await asyncio.wait_for(process.wait(), timeout=30)
    assert status == 0, stderr[-3000:]
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        [(access_token,)] = db.execute(
            "SELECT value FROM platform_state WHERE key = ?", (f"matrix:{bot_id}:access_token",)
        ).fetchall()
    return stderr, password, [access_token, *error_ids]


@pytest.mark.usefixtures("synapse_server")
async def test_no_secret_at_debug(tmp_path: Path, synapse_server: SynapseServer) -> None:  # noqa: F811
    stderr, password, (access_token, *_) = await run_session(tmp_path, "DEBUG", synapse_server)
    # The run did log what would have leaked: Bot API URLs, nio's login response.
    assert f"/bot{logsafe.REDACTED}/getUpdates" in stderr
    assert "'access_token': '<redacted>'" in stderr or '"access_token": "<redacted>"' in stderr
    for secret in (TOKEN, TOKEN.split(":")[1], password, access_token):
        assert secret not in stderr, f"{secret[:6]}… in the log"


@pytest.mark.usefixtures("synapse_server")
async def test_no_text_and_no_name_at_info(tmp_path: Path, synapse_server: SynapseServer) -> None:  # noqa: F811
    stderr, password, (access_token, *error_ids) = await run_session(tmp_path, "INFO", synapse_server)
    # Both failures were logged (with their error ids), so their lines were checked too.
    for error_id in error_ids:
        assert f"error {error_id} while handling IncomingMessage(" in stderr, stderr[-3000:]
    private = (PLAIN_TG, PLAIN_MX, "Gartenprotokoll", "Gießliste", TG_FIRST, TG_LAST, TG_USERNAME)
    for value in (*private, MX_DISPLAY, "Ottilie", "Schattenbeet", TOKEN, password, access_token):
        assert value not in stderr, f"{value!r} in the log"
    # httpx's request lines (one per Bot API call) are left out below DEBUG.
    assert "HTTP Request:" not in stderr
