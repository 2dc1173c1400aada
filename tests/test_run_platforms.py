"""`kuemmerer run` as an operator starts it: a real process with a config file per platform."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.adapters.matrix.conftest import MatrixUser, unique
from tests.fakes.synapse import SynapseServer, synapse_server  # noqa: F401  (fixture)
from tests.fakes.telegram_api import FakeTelegramServer

REPO = Path(__file__).resolve().parent.parent


async def start_bot(config: Path, cwd: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUEMMERER_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO), "KUEMMERER_LOG_LEVEL": "INFO"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    return process.returncode, stderr.decode()


async def test_run_with_a_telegram_token(tmp_path: Path) -> None:
    async with FakeTelegramServer() as server:
        server.add_user(5, "Anna", username="anna")
        server.add_chat(-100500, type="supergroup", title="AG Garten")
        server.set_admins(-100500, [5])
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{tmp_path}/bot.sqlite3"\n'
            f'[telegram]\ntoken = "42:SECRET"\nbase_url = "{server.base_url}"\npoll_timeout = 1\n',
            encoding="utf-8",
        )
        process = await start_bot(config, tmp_path)
        try:
            await server.wait_for_calls("getUpdates", 1, timeout=30)
            server.inject_message(-100500, 5, "/ag anlegen AG Garten")
            [reply] = await server.wait_for_messages(-100500, 1, timeout=30)
            assert "AG Garten ist als AG angelegt" in reply["text"]
        finally:
            status, stderr = await stop_bot(process)
        assert status == 0, stderr
        assert "Traceback" not in stderr


@pytest.mark.usefixtures("synapse_server")
async def test_run_with_a_matrix_account(tmp_path: Path, synapse_server: SynapseServer) -> None:  # noqa: F811
    localpart, password = unique("kuemmerer"), "operator-password"
    await synapse_server.aregister_user(localpart, password)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/bot.sqlite3"\n'
        f'[matrix]\nhomeserver = "{synapse_server.base_url}"\n'
        f'user_id = "{synapse_server.user_id(localpart)}"\n'
        f'password = "{password}"\nsync_timeout_ms = 1000\n',
        encoding="utf-8",
    )
    process = await start_bot(config, tmp_path)
    anna = MatrixUser(await synapse_server.client_for(unique("anna")))
    try:
        await anna.sync()
        room = await anna.create_room(synapse_server.user_id(localpart))
        await anna.wait_joined(room, synapse_server.user_id(localpart), timeout=40)
        assert "AG Garten ist als AG angelegt" in await anna.command(room, "!ag anlegen AG Garten")
    finally:
        await anna.client.close()
        status, stderr = await stop_bot(process)
    assert status == 0, stderr
    assert "Traceback" not in stderr
