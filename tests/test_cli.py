"""End-to-end tests of the command line: the real ``python -m bot`` in a subprocess."""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.fakes.telegram_api import ApiError, FakeTelegramServer

TIMEOUT = 120

SCRIPT = "/ag anlegen Test\n/beschluss Erster Beschluss\n/beschluesse\n"


def base_env(database: Path | None) -> dict[str, str]:
    """The current environment without any of the bot's settings, plus a database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUEMMERER_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if database is not None:
        env["KUEMMERER_DATABASE_URL"] = f"sqlite:///{database}"
    return env


def run(
    args: list[str], cwd: Path, *, database: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=base_env(database),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def assert_session_output(stdout: str) -> None:
    """The replies to SCRIPT, in order."""
    expected = [
        r"gruppe #1 ich> /ag anlegen Test",
        r"\[gruppe #2\] ✅ Test ist als AG angelegt\. Du hast die Koordination\.",
        r"gruppe #3 ich> /beschluss Erster Beschluss",
        r"\[gruppe #4\] ✅ Beschluss Nr\. 1 festgehalten \(\d\d\.\d\d\.\d{4}\):",
        r"  Erster Beschluss",
        r"gruppe #5 ich> /beschluesse",
        r"\[gruppe #6\] 1 gültiger Beschluss – Test",
        r"  • Nr\. 1 · \d\d\.\d\d\.\d{4}: Erster Beschluss",
    ]
    lines = stdout.splitlines()
    position = 0
    for pattern in expected:
        for index in range(position, len(lines)):
            if re.fullmatch(pattern, lines[index]):
                position = index + 1
                break
        else:
            pytest.fail(f"no line matching {pattern!r} after line {position} in:\n{stdout}")


def normalise_dates(text: str) -> str:
    return re.sub(r"\d\d\.\d\d\.\d{4}", "DD.MM.YYYY", text)


# --------------------------------------------------------------------------------------------
# Configuration errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "command"),
    [
        ('[bot]\nlanguag = "de"\n', "languag", ["run"]),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "timezone", ["console"]),
        ('[telegram]\ntoken = "t"\nmode = "webhook"\n', "webhook_url", ["db", "upgrade"]),
    ],
    ids=["unknown-key-run", "bad-timezone-console", "incomplete-webhook-db-upgrade"],
)
def test_invalid_config_exits_2_with_one_line(tmp_path, toml, key, command):
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    result = run([*command, "--config", str(config)], tmp_path, database=tmp_path / "k.sqlite3")
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert key in lines[0] and "bad.toml" in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "k.sqlite3").exists()


def test_invalid_discovered_config_exits_2(tmp_path):
    (tmp_path / "config.toml").write_text("[bot\n", encoding="utf-8")
    result = run(["console"], tmp_path, database=tmp_path / "k.sqlite3", stdin=SCRIPT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "config.toml" in result.stderr


def test_missing_config_file_exits_2(tmp_path):
    result = run(["run", "--config", "nope.toml"], tmp_path, database=tmp_path / "k.sqlite3")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.toml" in lines[0]


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def test_db_upgrade_creates_database(tmp_path):
    database = tmp_path / "sub" / "k.sqlite3"
    result = run(["db", "upgrade"], tmp_path, database=database)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "up to date" in result.stdout
    assert database.is_file()
    assert "alembic_version" in tables(database)
    assert len(tables(database)) > 1
    # Running it again is harmless.
    again = run(["db", "upgrade"], tmp_path, database=database)
    assert again.returncode == 0, again.stderr


def test_console_reads_stdin(tmp_path):
    database = tmp_path / "k.sqlite3"
    result = run(["console"], tmp_path, database=database, stdin=SCRIPT)
    assert result.returncode == 0, result.stderr
    # Nothing is logged at the default level (a missing catalog key would be).
    assert result.stderr == ""
    assert_session_output(result.stdout)
    assert database.is_file()


def test_console_script_file(tmp_path):
    script = tmp_path / "session.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    via_script = run(["console", "--script", str(script)], tmp_path, database=tmp_path / "a.sqlite3")
    assert via_script.returncode == 0, via_script.stderr
    assert "Traceback" not in via_script.stderr
    assert_session_output(via_script.stdout)
    via_stdin = run(["console"], tmp_path, database=tmp_path / "b.sqlite3", stdin=SCRIPT)
    assert via_stdin.returncode == 0, via_stdin.stderr
    script_lines = normalise_dates(via_script.stdout).splitlines()
    stdin_lines = normalise_dates(via_stdin.stdout).splitlines()
    diff = "\n".join(difflib.unified_diff(stdin_lines, script_lines, "stdin", "--script", lineterm=""))
    assert script_lines == stdin_lines, diff


def test_console_state_persists_between_runs(tmp_path):
    database = tmp_path / "k.sqlite3"
    first = run(["console"], tmp_path, database=database, stdin=SCRIPT)
    assert first.returncode == 0, first.stderr
    second = run(["console"], tmp_path, database=database, stdin="/beschluss 1\n")
    assert second.returncode == 0, second.stderr
    assert "Erster Beschluss" in second.stdout


def test_run_without_config_starts_console_on_default_database(tmp_path):
    result = run(["run"], tmp_path, database=None, stdin=SCRIPT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_session_output(result.stdout)
    assert (tmp_path / "data" / "kuemmerer.sqlite3").is_file()


def test_no_subcommand_means_run(tmp_path):
    result = run([], tmp_path, database=None, stdin="/hilfe\n")
    assert result.returncode == 0, result.stderr
    assert "Kümmerer – Befehle" in result.stdout
    assert (tmp_path / "data" / "kuemmerer.sqlite3").is_file()


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--config", "bad.toml"],
        ["--config", "bad.toml", "console"],
        ["console", "--config", "bad.toml"],
        ["--config", "bad.toml", "db", "upgrade"],
        ["db", "upgrade", "--config", "bad.toml"],
    ],
    ids=["no-command", "before-console", "after-console", "before-db-upgrade", "after-db-upgrade"],
)
def test_config_option_before_and_after_the_command(tmp_path, args):
    (tmp_path / "bad.toml").write_text('[bot]\nlanguag = "de"\n', encoding="utf-8")
    result = run(args, tmp_path, database=tmp_path / "k.sqlite3")
    assert_one_line(result, 2, "bad.toml", "languag")


def test_config_option_after_the_command_wins(tmp_path):
    (tmp_path / "bad.toml").write_text('[bot]\nlanguag = "de"\n', encoding="utf-8")
    (tmp_path / "good.toml").write_text("[bot]\n", encoding="utf-8")
    result = run(["--config", "good.toml", "console", "--config", "bad.toml"], tmp_path)
    assert_one_line(result, 2, "bad.toml")


def test_help_shows_config_and_version(tmp_path):
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    assert "--config FILE" in result.stdout and "--version" in result.stdout


def test_version_comes_from_the_package_metadata(tmp_path):
    result = run(["--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kuemmerer {metadata.version('kuemmerer')}"


def test_unknown_log_level_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env={**base_env(tmp_path / "k.sqlite3"), "KUEMMERER_LOG_LEVEL": "chatty"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert_one_line(result, 2, "KUEMMERER_LOG_LEVEL")


# --------------------------------------------------------------------------------------------
# Start-up errors: one line naming what failed and what to check; 2 = configuration, 1 = outage
# --------------------------------------------------------------------------------------------


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *parts: str) -> str:
    """The run ended with ``status`` and exactly one line on stderr that contains ``parts``."""
    assert result.returncode == status, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kuemmerer: "), lines[0]
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    return lines[0]


def closed_port() -> int:
    """A local TCP port nothing listens on (bound once by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_with_env(args: list[str], cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base_env(None), **env},
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("command", [["db", "upgrade"], ["console"]], ids=["db-upgrade", "console"])
def test_postgresql_unreachable_exits_1(tmp_path, command):
    port = closed_port()
    url = f"postgresql://kuemmerer:pg-secret@127.0.0.1:{port}/kuemmerer"
    result = run_with_env(command, tmp_path, stdin=SCRIPT, KUEMMERER_DATABASE_URL=url)
    line = assert_one_line(
        result, 1, f"PostgreSQL at 127.0.0.1:{port}", "unreachable", "KUEMMERER_DATABASE_URL"
    )
    assert "pg-secret" not in line
    assert result.stdout == ""


def test_sqlite_path_that_cannot_be_created_exits_2(tmp_path):
    (tmp_path / "afile").write_text("", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/afile/sub/k.sqlite3"\n', encoding="utf-8")
    for command in (["db", "upgrade"], ["console"]):
        result = run_with_env([*command, "--config", str(config)], tmp_path, stdin=SCRIPT)
        assert_one_line(result, 2, "SQLite", "afile", "[storage] url", "config.toml")


def test_sqlite_file_that_cannot_be_opened_exits_2(tmp_path):
    (tmp_path / "a-directory").mkdir()
    result = run_with_env(
        ["db", "upgrade"], tmp_path, KUEMMERER_DATABASE_URL=f"sqlite:///{tmp_path}/a-directory"
    )
    assert_one_line(result, 2, "SQLite", "a-directory", "KUEMMERER_DATABASE_URL")


def test_bad_environment_variable_is_named(tmp_path):
    result = run_with_env(["db", "upgrade"], tmp_path, KUEMMERER_DATABASE_URL="mysql://x")
    line = assert_one_line(result, 2, "KUEMMERER_DATABASE_URL", "[storage] url")
    assert "defaults" not in line


def test_telegram_api_unreachable_at_start_exits_1(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/k.sqlite3"\n[telegram]\ntoken = "42:TOKENSECRET"\n'
        f'base_url = "http://127.0.0.1:{closed_port()}/bot"\nstart_timeout = 0\n',
        encoding="utf-8",
    )
    result = run_with_env(["run", "--config", str(config)], tmp_path)
    line = assert_one_line(result, 1, "telegram", "unreachable", "base_url")
    assert "TOKENSECRET" not in line


async def test_telegram_token_rejected_exits_2(tmp_path):
    async with FakeTelegramServer() as server:
        server.fail_next("getMe", kind=ApiError(401, "Unauthorized"))
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{tmp_path}/k.sqlite3"\n[telegram]\ntoken = "42:TOKENSECRET"\n'
            f'base_url = "{server.base_url}"\n',
            encoding="utf-8",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            cwd=tmp_path,
            env=base_env(None),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
    result = subprocess.CompletedProcess([], process.returncode, stdout.decode(), stderr.decode())
    line = assert_one_line(result, 2, "telegram", "rejected the token", "[telegram] token")
    assert "TOKENSECRET" not in line


# Survey templates and the definition (issue 12) ------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_umfrage_import_stores_a_template_that_a_survey_can_start_from(tmp_path):
    database = tmp_path / "k.sqlite3"
    result = run(["umfrage", "import", str(DOCS / "umfrage-beispiel.toml")], tmp_path, database=database)
    assert result.returncode == 0, result.stderr
    assert "raumbedarf imported" in result.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT key FROM survey_templates").fetchall() == [("raumbedarf",)]
    again = run(["umfrage", "import", str(DOCS / "umfrage-beispiel.toml")], tmp_path, database=database)
    assert again.returncode == 0 and "replaced" in again.stdout
    session = "/ag anlegen Test\n/umfrage vorlagen\n/umfrage starten raumbedarf\n"
    console = run(["console"], tmp_path, database=database, stdin=session)
    assert console.returncode == 0, console.stderr
    assert "raumbedarf" in console.stdout
    assert "Umfrage Nr. 1 der AG Test" in console.stdout


def test_umfrage_import_of_a_broken_file_names_key_and_line_and_stores_nothing(tmp_path):
    database = tmp_path / "k.sqlite3"
    broken = tmp_path / "kaputt.toml"
    broken.write_text(
        'key = "kaputt"\ntitle = "Kaputt"\n\n[[item]]\nid = "a"\ntype = "choise"\ntext = "Frage?"\n',
        encoding="utf-8",
    )
    result = run(["umfrage", "import", str(broken)], tmp_path, database=database)
    assert result.returncode == 2
    assert "nicht importiert" in result.stderr
    assert "kaputt.toml:6: item[0].type" in result.stderr
    assert "Traceback" not in result.stderr
    # The file is checked before the database is even opened.
    assert not database.exists()


def test_definition_import_creates_a_new_version_once(tmp_path):
    database = tmp_path / "k.sqlite3"
    first = run(["definition", "import", str(DOCS / "definition-beispiel.toml")], tmp_path, database=database)
    assert first.returncode == 0, first.stderr
    assert "definition version 2 stored" in first.stdout
    again = run(["definition", "import", str(DOCS / "definition-beispiel.toml")], tmp_path, database=database)
    assert again.returncode == 0 and "unchanged" in again.stdout
    with sqlite3.connect(database) as conn:
        versions = conn.execute(
            "SELECT version, source FROM engagement_definitions ORDER BY version"
        ).fetchall()
    assert versions == [(1, "default"), (2, "definition-beispiel.toml")]
    missing = run(["definition", "import", str(tmp_path / "fehlt.toml")], tmp_path, database=database)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


# Backup, restore and the register export (the DSGVO issue's operator tools) ---------------------


def decision_texts(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT text FROM decisions ORDER BY number").fetchall()
    conn.close()
    return [text for (text,) in rows]


def test_backup_and_restore_round_trip(tmp_path):
    database = tmp_path / "k.sqlite3"
    assert run(["console"], tmp_path, database=database, stdin=SCRIPT).returncode == 0
    backup = run(["backup", "sicherung.sqlite3"], tmp_path, database=database)
    assert backup.returncode == 0, backup.stderr
    assert "backup written to sicherung.sqlite3 (SQLite, schema revision" in backup.stdout
    assert "no secrets to leave out" in backup.stdout
    assert (tmp_path / "sicherung.sqlite3").stat().st_mode & 0o777 == 0o600
    later = run(["console"], tmp_path, database=database, stdin="/beschluss Nach der Sicherung\n")
    assert later.returncode == 0, later.stderr
    assert decision_texts(database) == ["Erster Beschluss", "Nach der Sicherung"]
    # Without a terminal to ask on, a restore needs --ja; nothing changes without it.
    refused = run(["restore", "sicherung.sqlite3"], tmp_path, database=database)
    assert_one_line(refused, 2, "--ja")
    assert decision_texts(database) == ["Erster Beschluss", "Nach der Sicherung"]
    restored = run(["restore", "sicherung.sqlite3", "--ja"], tmp_path, database=database)
    assert restored.returncode == 0, restored.stderr
    assert "database restored from sicherung.sqlite3" in restored.stdout
    assert "the previous database is kept as" in restored.stdout
    assert "logs in again" in restored.stdout  # no Matrix access token in the backup
    assert decision_texts(database) == ["Erster Beschluss"]
    kept = list(tmp_path.glob("k.sqlite3.vor-restore-*"))
    assert len(kept) == 1 and decision_texts(kept[0]) == ["Erster Beschluss", "Nach der Sicherung"]
    again = run(["console"], tmp_path, database=database, stdin="/beschluesse\n")
    assert again.returncode == 0 and "Erster Beschluss" in again.stdout


def test_restore_of_a_backup_from_a_newer_version_is_refused(tmp_path):
    database = tmp_path / "k.sqlite3"
    assert run(["console"], tmp_path, database=database, stdin=SCRIPT).returncode == 0
    assert run(["backup", "neu.sqlite3"], tmp_path, database=database).returncode == 0
    with sqlite3.connect(tmp_path / "neu.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    result = run(["restore", "neu.sqlite3", "--ja"], tmp_path, database=database)
    assert_one_line(result, 2, "revision 9999", "newer version")
    assert not list(tmp_path.glob("*.vor-restore-*"))
    not_a_backup = tmp_path / "notiz.txt"
    not_a_backup.write_text("Einkaufsliste", encoding="utf-8")
    result = run(["restore", str(not_a_backup), "--ja"], tmp_path, database=database)
    assert_one_line(result, 2, "not a Kümmerer backup")


def test_backup_without_pg_dump_names_the_command_and_hides_the_password(tmp_path):
    url = f"postgresql://kuemmerer:pg-secret@127.0.0.1:{closed_port()}/kuemmerer"
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_with_env(["backup", "k.dump"], tmp_path, KUEMMERER_DATABASE_URL=url, PATH=str(empty))
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert "pg_dump not found" in result.stderr
    assert "pg_dump --format=custom --exclude-table-data=platform_state" in result.stderr
    assert "pg-secret" not in result.stderr + result.stdout
    assert not (tmp_path / "k.dump").exists()


def test_export_ag_writes_markdown_and_json(tmp_path):
    database = tmp_path / "k.sqlite3"
    assert run(["console"], tmp_path, database=database, stdin=SCRIPT).returncode == 0
    markdown = run(["export-ag", "test"], tmp_path, database=database)
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# Register: Test\n")
    assert "### Beschluss Nr. 1 · gültig\n\nErster Beschluss\n" in markdown.stdout
    written = run(["export-ag", "1", "--out", "register.json"], tmp_path, database=database)
    assert written.returncode == 0, written.stderr
    assert "register of Test written to register.json (0 goals, 1 decisions)" in written.stdout
    data = json.loads((tmp_path / "register.json").read_text(encoding="utf-8"))
    assert data["format"] == "kuemmerer-register" and data["group"]["name"] == "Test"
    assert [d["text"] for d in data["decisions"]] == ["Erster Beschluss"]
    missing = run(["export-ag", "AG Nirgends"], tmp_path, database=database)
    assert_one_line(missing, 2, "no AG named 'AG Nirgends'")


def test_datenschutz_bericht_counts_and_ausfuehren_removes(tmp_path):
    database = tmp_path / "k.sqlite3"
    assert run(["console"], tmp_path, database=database, stdin=SCRIPT).returncode == 0
    config = tmp_path / "config.toml"
    # A period of one minute: the session's delivered replies are due a minute later.
    config.write_text('[datenschutz]\noutbox_zugestellt = "1m"\n', encoding="utf-8")
    report = run(["datenschutz", "bericht", "--config", str(config)], tmp_path, database=database)
    assert report.returncode == 0, report.stderr
    assert "würde jetzt entfernen" in report.stdout
    assert re.search(r"^\s+0\s+zugestellte Bot-Nachrichten", report.stdout, re.M)  # not yet due
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE outbox SET sent_at = '2000-01-01 00:00:00.000000'")
    connection.close()
    report = run(["datenschutz", "bericht", "--config", str(config)], tmp_path, database=database)
    sent = int(re.search(r"^\s+(\d+)\s+zugestellte Bot-Nachrichten", report.stdout, re.M).group(1))
    assert sent >= 3, report.stdout
    done = run(["datenschutz", "ausfuehren", "--config", str(config)], tmp_path, database=database)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^\s+{sent}\s+zugestellte Bot-Nachrichten", done.stdout, re.M), done.stdout
    again = run(["datenschutz", "bericht", "--config", str(config)], tmp_path, database=database)
    assert re.search(r"^\s+0\s+zugestellte Bot-Nachrichten", again.stdout, re.M)
