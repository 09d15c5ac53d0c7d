"""`manage.py demo`: prepare a working install and run web, worker and sandbox together.

One terminal, one command for a new user: migrate, roles, schedules, demo logins,
then the three processes; Ctrl-C (or SIGTERM) stops all of them, and if one dies the
others are stopped too, so nothing is left running behind the user's back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partnerhub import demo_data

# Ctrl-C or SIGTERM: the worker may finish its task for WORKER_GRACE_SECONDS (its
# Q_STOP_GRACE_SECONDS), then ends it; every child is gone after STOP_GRACE_SECONDS.
WORKER_GRACE_SECONDS = 5
STOP_GRACE_SECONDS = 10
SANDBOX_START_SECONDS = 15


class Command(BaseCommand):
    help = "Set up demo logins and data, then run web server, worker and sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", 8000))
        )
        parser.add_argument(
            "--setup-only", action="store_true", help="Prepare the database and exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:  # never create public demo logins in production
            raise CommandError(
                "The demo creates public logins (admin / partnerhub-demo): it runs "
                "only with DEBUG=1, which scripts/run sets."
            )
        if not options["setup_only"]:
            self._check_ports(options["host"], options["port"])
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_roles", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        call_command("setup_schedules", verbosity=0)
        logins = demo_data.ensure_demo_logins()
        demo_data.ensure_demo_data()
        if options["setup_only"]:
            self._print_logins(logins, url=None)
            return
        url = f"http://{options['host']}:{options['port']}/"
        self._run(self._commands(options["host"], options["port"]), logins, url)

    def _check_ports(self, host: str, port: int) -> None:
        """A busy port stops the demo with one line saying how to pick another,
        before anything starts (the children would die with a raw traceback)."""
        if not port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use, so the web server cannot "
                f"start: stop what uses it, or pick another port, e.g. "
                f"scripts/run --port {port + 1}"
            )
        if not settings.PARTNERHUB_SANDBOX:
            return
        sandbox_host, sandbox_port = settings.SANDBOX_HOST, settings.SANDBOX_PORT
        if sandbox_port == port or not port_is_free(sandbox_host, sandbox_port):
            raise CommandError(
                f"Port {sandbox_port} on {sandbox_host} is already in use, so the "
                f"provider sandbox cannot start: stop what uses it, or pick another "
                f"port, e.g. SANDBOX_PORT={sandbox_port + 1} scripts/run"
            )

    def _commands(self, host: str, port: int) -> dict[str, list[str]]:
        python = [sys.executable, "manage.py"]
        commands = {
            "web": [*python, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [*python, "qcluster"],
        }
        if settings.PARTNERHUB_SANDBOX:
            commands["sandbox"] = [
                *python,
                "partner_sandbox",
                "--host",
                settings.SANDBOX_HOST,
                "--port",
                str(settings.SANDBOX_PORT),
            ]
        return commands

    def _run(self, commands: dict[str, list[str]], logins: list, url: str) -> None:
        # Each child leads its own process group, so a stop can end its whole
        # tree (the worker's sentinel and pool too), never leaving orphans.
        env = {**os.environ, "Q_STOP_GRACE_SECONDS": str(WORKER_GRACE_SECONDS)}
        processes: dict[str, subprocess.Popen] = {}
        for name in sorted(commands, key=lambda n: n != "sandbox"):  # sandbox first
            processes[name] = subprocess.Popen(  # noqa: S603
                commands[name], cwd=settings.BASE_DIR, env=env, start_new_session=True
            )
            if name == "sandbox":
                self._share_lists_with_sandbox()
        self._print_logins(logins, url=url)
        stop = {"asked": False}

        def ask_stop(signum: int, frame: Any) -> None:
            stop["asked"] = True

        signal.signal(signal.SIGINT, ask_stop)
        signal.signal(signal.SIGTERM, ask_stop)
        try:
            while not stop["asked"]:
                dead = [n for n, p in processes.items() if p.poll() is not None]
                if dead:
                    self.stderr.write(
                        f"{', '.join(dead)} stopped; stopping the others."
                    )
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(processes)

    def _share_lists_with_sandbox(self) -> None:
        """The sandbox starts with empty lists: give it the demo's unsubscribes
        before the worker's first sync, so that sync finds both sides agreeing."""
        host, port = settings.SANDBOX_HOST, settings.SANDBOX_PORT
        deadline = time.monotonic() + SANDBOX_START_SECONDS
        while not _listening(host, port) and time.monotonic() < deadline:
            time.sleep(0.2)
        demo_data.on_sandbox_start()

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # what is left of its tree
            process.wait()
        self.stdout.write("PartnerHub stopped.")

    def _print_logins(self, logins: list, url: str | None) -> None:
        bar = "=" * 64
        self.stdout.write(bar)
        if url:
            self.stdout.write(
                f"PartnerHub is running at {url}  (Ctrl-C stops everything)"
            )
        self.stdout.write("Demo logins (username / password — role):")
        for login in logins:
            self.stdout.write(f"  {login.username} / {login.password} — {login.role}")
        if settings.PARTNERHUB_SANDBOX:
            sandbox = f"http://{settings.SANDBOX_HOST}:{settings.SANDBOX_PORT}/"
            self.stdout.write(f"Provider sandbox: {sandbox}_sandbox/state")
        self.stdout.write(bar)


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (as runserver binds it)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror:
        return True  # let the server report an unknown host itself
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def _listening(host: str, port: int) -> bool:
    """Whether a server answers on host:port (a connect, never a bind: binding
    while the server starts could take the port from it)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
