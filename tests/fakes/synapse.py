"""A real Synapse homeserver on 127.0.0.1 for integration tests.

Synapse is installed from PyPI into its own virtualenv, outside the project
venv, so its large dependency tree (Twisted, ...) never mixes with ours. The
venv is cached between runs (``$KUEMMERER_SYNAPSE_VENV`` or
``~/.cache/kuemmerer/synapse-venv``) and is only (re)built when it is missing,
broken, or was built for a different :data:`SYNAPSE_REQUIREMENT`.

Typical use::

    with SynapseServer() as server:          # installs lazily, starts, stops
        user_id, token = server.register_user("alice", "secret")

    async with SynapseServer() as server:    # same, without blocking the loop
        client = await server.client_for("alice")
        try:
            ...
        finally:
            await client.close()

For pytest, import the session-scoped :func:`synapse_server` fixture into a
conftest; nothing is installed or started until a test requests it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import nio
import pytest

__all__ = [
    "SERVER_NAME",
    "SYNAPSE_REQUIREMENT",
    "SynapseError",
    "SynapseInstall",
    "SynapseServer",
    "default_venv_dir",
    "ensure_synapse",
    "synapse_server",
]

#: The one place the Synapse version is pinned. Bump deliberately: the config
#: written below (rate limit keys, key generation on start) was checked
#: against this range. Changing it makes cached venvs rebuild automatically.
SYNAPSE_REQUIREMENT: Final = "matrix-synapse>=1.163,<1.164"

#: ``server_name`` of every test homeserver; user IDs look like ``@a:localhost``.
SERVER_NAME: Final = "localhost"

#: Environment variable overriding where the Synapse venv is cached.
VENV_ENV_VAR: Final = "KUEMMERER_SYNAPSE_VENV"

# Written into the venv only after a successful install + import check, so a
# venv without it (e.g. an install killed half-way) is never trusted.
_MARKER_NAME: Final = "kuemmerer-synapse.json"

# Generous but finite: a cold install downloads ~100 wheels.
_PIP_TIMEOUT_S: Final = 900.0

# Enough for bursts of thousands of requests from one test user; the values
# are finite because Synapse has no "off" switch for most limiters.
_UNTHROTTLED: Final[dict[str, float]] = {"per_second": 10_000, "burst_count": 100_000}


class SynapseError(RuntimeError):
    """Installing, starting or talking to the test homeserver failed."""


@dataclass(frozen=True)
class SynapseInstall:
    """A usable Synapse virtualenv.

    Attributes:
        venv_dir: Root of the virtualenv.
        python: The venv's interpreter, used to run Synapse.
        version: ``synapse.__version__`` as reported by the venv.
        installed: True if this call had to (re)install Synapse.
        seconds: Wall time the ensure step took (check, or full install).
    """

    venv_dir: Path
    python: Path
    version: str
    installed: bool
    seconds: float


# Per-process memo so many servers in one pytest session check the venv once.
_INSTALLS: dict[Path, SynapseInstall] = {}


def default_venv_dir() -> Path:
    """Return where the Synapse venv is cached.

    Returns:
        ``$KUEMMERER_SYNAPSE_VENV`` if set, else
        ``~/.cache/kuemmerer/synapse-venv``.
    """
    override = os.environ.get(VENV_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path.home() / ".cache" / "kuemmerer" / "synapse-venv"


def _child_env() -> dict[str, str]:
    """Environment for processes run with the Synapse venv's interpreter.

    The project venv's variables must not leak in: ``PYTHONPATH`` could shadow
    Synapse's dependencies with ours and ``PYTHONHOME`` would break the venv.
    """
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(name, None)
    # Synapse warns on stderr for deprecations; keep its output quiet and
    # independent of whatever -W flags the test run itself uses.
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a text file, or a placeholder."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"<{path} not readable>"
    return "\n".join(text.splitlines()[-lines:]) or f"<{path} is empty>"


def _probe_venv(venv_dir: Path) -> str | None:
    """Return the Synapse version if ``venv_dir`` is a complete install, else None."""
    python = venv_dir / "bin" / "python"
    marker = venv_dir / _MARKER_NAME
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("requirement") != SYNAPSE_REQUIREMENT:
        return None
    # Importing the Rust extension too catches a venv whose base interpreter
    # was upgraded or removed underneath it, which a marker alone cannot.
    try:
        result = subprocess.run(
            [
                str(python),
                "-c",
                "import synapse, synapse.synapse_rust; print(synapse.__version__)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=_child_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _build_venv(target: Path, log_path: Path) -> str:
    """Create a venv at ``target`` and pip-install Synapse into it.

    Returns:
        The installed Synapse version.

    Raises:
        SynapseError: If venv creation, pip or the import check fails.
    """
    python = target / "bin" / "python"
    steps = [
        # The running interpreter's venv module builds the new venv on top of
        # the *base* interpreter even when we run inside the project venv.
        [sys.executable, "-m", "venv", str(target)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            SYNAPSE_REQUIREMENT,
        ],
    ]
    with log_path.open("w", encoding="utf-8") as log:
        for argv in steps:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            try:
                result = subprocess.run(
                    argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=_PIP_TIMEOUT_S,
                    env=_child_env(),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise SynapseError(f"timed out: {' '.join(argv)}\n{_tail(log_path)}") from exc
            if result.returncode != 0:
                raise SynapseError(f"failed ({result.returncode}): {' '.join(argv)}\n{_tail(log_path)}")
    (target / _MARKER_NAME).write_text(json.dumps({"requirement": SYNAPSE_REQUIREMENT}), encoding="utf-8")
    version = _probe_venv(target)
    if version is None:
        raise SynapseError(f"Synapse installed into {target} but does not import")
    (target / _MARKER_NAME).write_text(
        json.dumps({"requirement": SYNAPSE_REQUIREMENT, "version": version}),
        encoding="utf-8",
    )
    return version


def ensure_synapse(venv_dir: Path | None = None) -> SynapseInstall:
    """Make sure a working Synapse venv exists, installing it if needed.

    Safe to call from several processes at once: an exclusive ``flock`` on a
    sibling ``.lock`` file serialises checks and installs, and a new venv is
    built in a scratch directory and renamed into place only once it works,
    so a killed install never leaves a venv that looks usable.

    Args:
        venv_dir: Where the venv lives; defaults to :func:`default_venv_dir`.

    Returns:
        The install, with its version and how long this call took.

    Raises:
        SynapseError: If installing fails (e.g. PyPI is unreachable).
    """
    venv_dir = (venv_dir or default_venv_dir()).expanduser().resolve()
    if venv_dir in _INSTALLS:
        return _INSTALLS[venv_dir]
    started = time.monotonic()
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv_dir.with_name(venv_dir.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            version = _probe_venv(venv_dir)
            installed = version is None
            if version is None:
                scratch = venv_dir.with_name(f"{venv_dir.name}.partial-{os.getpid()}")
                shutil.rmtree(scratch, ignore_errors=True)
                try:
                    version = _build_venv(scratch, venv_dir.with_name(venv_dir.name + ".install.log"))
                    # Move a broken predecessor aside first: rename() cannot
                    # replace a non-empty directory.
                    if venv_dir.exists():
                        stale = venv_dir.with_name(f"{venv_dir.name}.stale-{os.getpid()}")
                        venv_dir.rename(stale)
                        shutil.rmtree(stale, ignore_errors=True)
                    # Safe to move: Synapse is always run as `python -m`, which
                    # locates the venv via pyvenv.cfg next to bin/python, so
                    # the absolute paths in console-script shebangs don't matter.
                    scratch.rename(venv_dir)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    result = SynapseInstall(
        venv_dir=venv_dir,
        python=venv_dir / "bin" / "python",
        version=version,
        installed=installed,
        seconds=time.monotonic() - started,
    )
    _INSTALLS[venv_dir] = result
    return result


def _free_port() -> int:
    """Ask the kernel for a currently unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rate_limits() -> dict[str, Any]:
    """Rate-limit settings that keep scripted test users from getting 429s.

    Covers every ``rc_*`` key read by ``synapse/config/ratelimiting.py`` in the
    pinned version except ``rc_federation`` (no federation here). Unknown keys
    are ignored by Synapse, so keeping an obsolete one is harmless.
    """
    limit = dict(_UNTHROTTLED)
    return {
        "rc_message": limit,
        "rc_registration": limit,
        "rc_registration_token_validity": limit,
        "rc_login": {"address": limit, "account": limit, "failed_attempts": limit},
        "rc_admin_redaction": limit,
        "rc_joins": {"local": limit, "remote": limit},
        "rc_joins_per_room": limit,
        "rc_key_requests": limit,
        "rc_3pid_validation": limit,
        "rc_invites": {"per_room": limit, "per_user": limit, "per_issuer": limit},
        "rc_third_party_invite": limit,
        "rc_media_create": limit,
        "rc_presence": {"per_user": limit},
        "rc_delayed_event_mgmt": limit,
        "rc_room_creation": limit,
        "rc_reports": limit,
        "rc_user_directory": limit,
        "rc_profile": limit,
    }


# Servers still running at interpreter exit are killed, so an aborted test
# run (e.g. KeyboardInterrupt during setup) does not leave Synapse behind.
_RUNNING: weakref.WeakSet[SynapseServer] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_RUNNING):
        server.stop(timeout=5.0)
        server.close()  # also removes an auto-created data directory


class SynapseServer:
    """One Synapse homeserver subprocess listening on 127.0.0.1.

    The data directory holds the generated config, signing key, SQLite
    database, media store and logs. It survives :meth:`stop`, so
    :meth:`restart` brings back the same users, rooms and access tokens on the
    same port. Use as a (sync or async) context manager to get start/stop and
    clean-up of an auto-created data directory.

    Attributes:
        server_name: Always :data:`SERVER_NAME`.
        data_dir: Directory with config, database and logs.
        config_path: The generated ``homeserver.yaml``.
        log_path: Synapse's own log (level ``log_level``).
        console_path: Synapse's stdout/stderr (startup crashes land here).
        registration_shared_secret: Secret for the admin registration API.
        last_start_seconds: Wall time of the most recent successful start,
            from spawning the process to ``/versions`` answering.
        install: The Synapse install used, once :meth:`start` has run.
    """

    server_name: str = SERVER_NAME

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        venv_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        log_level: str = "WARNING",
        config_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        """Prepare (but do not start) a homeserver.

        Args:
            data_dir: Directory for config and state. If omitted, a temporary
                directory is created and removed again by :meth:`close`.
            port: TCP port to listen on; a free one is picked if omitted.
            venv_dir: Synapse venv location; see :func:`default_venv_dir`.
            startup_timeout: Seconds to wait for the server to answer.
            stop_timeout: Seconds to wait after SIGTERM before SIGKILL.
            log_level: Level for Synapse's log file.
            config_overrides: Top-level ``homeserver.yaml`` keys to override
                (applied when the config is first written).
        """
        self._owns_data_dir = data_dir is None
        self.data_dir = Path(
            tempfile.mkdtemp(prefix="kuemmerer-synapse-") if data_dir is None else data_dir
        ).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.data_dir / "homeserver.yaml"
        self.log_path = self.data_dir / "homeserver.log"
        self.console_path = self.data_dir / "console.log"
        self._port = port
        self._venv_dir = Path(venv_dir) if venv_dir is not None else None
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._log_level = log_level
        self._overrides = dict(config_overrides or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._passwords: dict[str, str] = {}
        self.registration_shared_secret = ""
        self.last_start_seconds: float | None = None
        self.install: SynapseInstall | None = None
        self._load_existing_config()

    # ------------------------------------------------------------------ info

    @property
    def port(self) -> int:
        """The listener's TCP port (fixed once the config is written)."""
        if self._port is None:
            self._port = _free_port()
        return self._port

    @property
    def base_url(self) -> str:
        """Client-server API base URL, e.g. ``http://127.0.0.1:8448``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the Synapse subprocess is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def version(self) -> str | None:
        """Installed Synapse version, known after the first :meth:`start`."""
        return self.install.version if self.install else None

    def user_id(self, localpart: str) -> str:
        """Return the full Matrix ID for ``localpart`` on this server."""
        return f"@{localpart}:{self.server_name}"

    # ---------------------------------------------------------------- config

    def _load_existing_config(self) -> None:
        """Adopt port and secret from a config written by an earlier instance.

        This lets a new :class:`SynapseServer` reuse a data directory, which is
        the same situation :meth:`restart` is in.
        """
        if not self.config_path.exists():
            return
        config = json.loads(self.config_path.read_text(encoding="utf-8"))
        self._port = int(config["listeners"][0]["port"])
        self.registration_shared_secret = str(config["registration_shared_secret"])

    def _write_config(self) -> None:
        """Write ``homeserver.yaml`` and the log config, once per data dir.

        Both are written as JSON, which is valid YAML, so the project needs no
        YAML library. The signing key is generated by Synapse itself on first
        start: generating missing key files is its default start-up behaviour.
        """
        if self.config_path.exists():
            return
        data = self.data_dir
        log_config_path = data / "log_config.yaml"
        log_config = {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                    " - %(request)s - %(message)s"
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            "root": {"level": self._log_level, "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        log_config_path.write_text(json.dumps(log_config, indent=2), encoding="utf-8")
        self.registration_shared_secret = secrets.token_urlsafe(32)
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "public_baseurl": f"{self.base_url}/",
            "pid_file": str(data / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # Client API (which also mounts /_synapse/admin) only: no
                    # federation listener, nothing reachable from outside.
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(data / "homeserver.db")},
            },
            "log_config": str(log_config_path),
            "media_store_path": str(data / "media_store"),
            "signing_key_path": str(data / f"{self.server_name}.signing.key"),
            "registration_shared_secret": self.registration_shared_secret,
            # Fixed in the config (not derived at runtime) so that everything
            # signed with them stays valid across restarts.
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            # An empty allow-list forbids all outbound federation, which also
            # stops remote media downloads: tests stay hermetic.
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            # Password hashing dominates register/login time at the default
            # cost of 12; 4 is the minimum bcrypt allows.
            "bcrypt_rounds": 4,
            **_rate_limits(),
        }
        config.update(self._overrides)
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    # ------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Install Synapse if needed, start it and wait until it answers.

        Raises:
            SynapseError: If already running, if installing fails, or if the
                server exits or does not answer within ``startup_timeout``
                (the message includes the tail of its logs).
        """
        if self.is_running:
            raise SynapseError("Synapse is already running")
        self.install = ensure_synapse(self._venv_dir)
        self._write_config()
        started = time.monotonic()
        with self.console_path.open("ab") as console:
            self._process = subprocess.Popen(
                [
                    str(self.install.python),
                    "-m",
                    "synapse.app.homeserver",
                    "--config-path",
                    str(self.config_path),
                ],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                # Same process group as pytest on purpose: if CI kills the
                # group on timeout, Synapse goes down with it.
            )
        _RUNNING.add(self)
        try:
            self._wait_until_ready(started + self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.last_start_seconds = time.monotonic() - started

    def _wait_until_ready(self, deadline: float) -> None:
        """Poll ``/_matrix/client/versions`` until it answers 200."""
        url = f"{self.base_url}/_matrix/client/versions"
        while True:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise SynapseError(f"Synapse exited with code {code} during startup\n{self._logs()}")
            try:
                with urllib.request.urlopen(url, timeout=2.0) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # Not listening yet (connection refused) or still booting.
            if time.monotonic() > deadline:
                raise SynapseError(
                    f"Synapse did not answer {url} within {self._startup_timeout:.0f}s\n{self._logs()}"
                )
            time.sleep(0.05)

    def _logs(self) -> str:
        """Tails of Synapse's console output and log file, for error messages."""
        return (
            f"--- {self.console_path} ---\n{_tail(self.console_path)}\n"
            f"--- {self.log_path} ---\n{_tail(self.log_path)}"
        )

    def stop(self, timeout: float | None = None) -> None:
        """Stop Synapse: SIGTERM, then SIGKILL if it lingers. Idempotent.

        Args:
            timeout: Seconds to wait after SIGTERM; defaults to ``stop_timeout``.
        """
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self._stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        """Stop and start again with the same data directory and port."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete the data directory if it was auto-created."""
        self.stop()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def astart(self) -> None:
        """Async :meth:`start`; runs in a worker thread so the loop stays free."""
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        """Async :meth:`stop`."""
        await asyncio.to_thread(self.stop)

    async def arestart(self) -> None:
        """Async :meth:`restart`."""
        await asyncio.to_thread(self.restart)

    def __enter__(self) -> SynapseServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> SynapseServer:
        try:
            await self.astart()
        except BaseException:
            await asyncio.to_thread(self.close)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)

    # ----------------------------------------------------------------- users

    def _admin_request(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET (or POST ``body`` as JSON) to this server and decode the JSON reply.

        Raises:
            SynapseError: On a non-2xx answer (with the server's error body)
                or if the server cannot be reached.
        """
        request = urllib.request.Request(
            self.base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30.0) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            exc.close()
            raise SynapseError(f"{request.method} {path} -> {exc.code}: {detail}") from None
        except urllib.error.URLError as exc:
            raise SynapseError(f"{request.method} {path} failed: {exc.reason}") from exc

    def register_user(self, localpart: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Create a user via the shared-secret admin registration API.

        Works although ``enable_registration`` is false. Blocking (urllib);
        from async code prefer :meth:`aregister_user`.

        Args:
            localpart: User name without ``@`` and server, e.g. ``"alice"``.
            password: The user's password.
            admin: Whether the user becomes a server admin.

        Returns:
            ``(user_id, access_token)`` of a fresh device.

        Raises:
            SynapseError: If the user exists already or the request fails.
        """
        nonce = self._admin_request("/_synapse/admin/v1/register")["nonce"]
        # Message layout and SHA-1 are prescribed by the admin API docs.
        mac = hmac.new(self.registration_shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        reply = self._admin_request(
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        self._passwords[localpart] = password
        return str(reply["user_id"]), str(reply["access_token"])

    async def aregister_user(self, localpart: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Async :meth:`register_user` (runs it in a worker thread)."""
        return await asyncio.to_thread(self.register_user, localpart, password, admin)

    async def client_for(
        self,
        localpart: str,
        password: str | None = None,
        *,
        device_name: str = "kuemmerer-test",
        config: nio.AsyncClientConfig | None = None,
    ) -> nio.AsyncClient:
        """Return a matrix-nio client logged in as ``localpart``.

        Each call uses a fresh nio store directory inside :attr:`data_dir`
        and logs in a new device. The caller must ``await client.close()``
        (or use :meth:`logged_in_client`).

        Args:
            localpart: The user. If it was not registered through this server
                object and no password is given, it is registered now with a
                random password.
            password: Password to log in with; defaults to the one used when
                registering through this object.
            device_name: Display name of the new device.
            config: Optional nio client config.

        Returns:
            A logged-in ``nio.AsyncClient``.

        Raises:
            SynapseError: If login fails.
        """
        if password is None:
            password = self._passwords.get(localpart)
        if password is None:
            password = secrets.token_urlsafe(16)
            await self.aregister_user(localpart, password)
        store_path = self.data_dir / "nio-stores" / f"{localpart}-{uuid.uuid4().hex[:8]}"
        store_path.mkdir(parents=True)
        client = nio.AsyncClient(
            self.base_url,
            self.user_id(localpart),
            store_path=str(store_path),
            # Plain clients unless a test asks for encryption: with the e2e extra installed nio
            # would otherwise encrypt, and refuse rooms it has not synced yet.
            config=config or nio.AsyncClientConfig(encryption_enabled=False),
        )
        try:
            response = await client.login(password, device_name=device_name)
        except BaseException:
            await client.close()
            raise
        if not isinstance(response, nio.LoginResponse):
            await client.close()
            raise SynapseError(f"login as {localpart} failed: {response}")
        return client

    @contextlib.asynccontextmanager
    async def logged_in_client(
        self, localpart: str, password: str | None = None
    ) -> AsyncIterator[nio.AsyncClient]:
        """Like :meth:`client_for`, but closes the client on exit.

        Args:
            localpart: The user (registered on demand, see :meth:`client_for`).
            password: Password to log in with.

        Yields:
            A logged-in ``nio.AsyncClient``.
        """
        client = await self.client_for(localpart, password)
        try:
            yield client
        finally:
            await client.close()


@pytest.fixture(scope="session")
def synapse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """Session-wide running homeserver, started on first use.

    Synapse is installed (or the cached venv checked) only when a test
    actually requests this fixture. Tests share the server, so they should
    use unique localparts (e.g. with a uuid suffix) and not restart it; a
    test that needs a restart should create its own :class:`SynapseServer`.

    Yields:
        The running server; it is stopped at the end of the session.
    """
    with SynapseServer(tmp_path_factory.mktemp("synapse")) as server:
        yield server
