"""`manage.py partner_sandbox`: serve the local provider sandbox on one port."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from partnerhub.accounts import demo as accounts_demo
from partnerhub.sandbox.server import build_server
from partnerhub.sandbox.state import SandboxConfig

DEMO_PREFIX = "demo-"
DEMO_KEYS = ("mail_api_key", "sms_api_key")


class Command(BaseCommand):
    help = "Serve the provider sandbox (Mail, SMS, Voice Partner, PEC Massiva)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SANDBOX_HOST)
        parser.add_argument("--port", type=int, default=settings.SANDBOX_PORT)
        parser.add_argument(
            "--settle-seconds",
            type=float,
            default=None,
            help="Seconds before statuses settle (SANDBOX_SETTLE_SECONDS, 20).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Do not print one line per request."
        )
        parser.add_argument(
            "--quiet-hours",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Marketing SMS and mail wait out 20:00-08:00, Sundays and public "
            "holidays, as at the providers (SANDBOX_QUIET_HOURS, on).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        overrides: dict[str, Any] = {
            "mail_api_key": settings.MAILPARTNER_API_KEY,
            "sms_api_key": settings.SMSPARTNER_API_KEY,
            "voice_api_key": settings.VOICEPARTNER_API_KEY,
            "pec_token": settings.PECMASSIVA_TOKEN,
            "verbose": not options["quiet"],
        }
        if all(str(overrides[k]).startswith(DEMO_PREFIX) for k in DEMO_KEYS):
            # The demo's sub-accounts, so the seeded rows exist at the sandbox too.
            overrides["subaccounts"] = accounts_demo.sandbox_presets()
        if options["settle_seconds"] is not None:
            overrides["settle_seconds"] = options["settle_seconds"]
        if options["quiet_hours"] is not None:
            overrides["quiet_hours"] = options["quiet_hours"]
        config = SandboxConfig.from_env(**overrides)
        server = build_server(options["host"], options["port"], config)
        self._announce(server.url, config)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        server.start_in_thread()
        stop.wait()
        self.stdout.write("Stopping the sandbox...")
        server.shutdown()
        self.stdout.write(self.style.SUCCESS("Sandbox stopped."))

    def _announce(self, url: str, config: SandboxConfig) -> None:
        """URLs and keys; a key is printed only when it is a public demo value."""
        rows = [
            ("Mail Partner", "/mailpartner/v1", config.mail_api_key),
            ("SMS Partner", "/smspartner/v1", config.sms_api_key),
            ("Voice Partner", "/voicepartner/v1", config.voice_api_key),
            ("PEC Massiva", "/pecmassiva", config.pec_token),
        ]
        self.stdout.write(self.style.SUCCESS(f"Provider sandbox on {url}"))
        for label, prefix, key in rows:
            shown = key if key.startswith(DEMO_PREFIX) else "(configured key, hidden)"
            self.stdout.write(f"  {label:<14} {url}{prefix}  key: {shown}")
        self.stdout.write(f"  Controls       {url}/_sandbox/state  (Ctrl-C to stop)")
        self.stdout.write(f"  Statuses settle after {config.settle_seconds:g} s.")
        if config.quiet_hours:
            self.stdout.write(
                "  Marketing SMS and mail sent from 20:00 to 08:00, on Sundays or "
                "public holidays wait until 08:00 on the next working day "
                "(--no-quiet-hours turns this off)."
            )
