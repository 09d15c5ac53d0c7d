"""Which emulators the sandbox server hosts, built around one shared clock."""

from __future__ import annotations

from .mailpartner import MailPartnerSandbox
from .pecmassiva import PecMassivaSandbox
from .smspartner import SmsPartnerSandbox
from .state import SandboxConfig
from .voicepartner import VoicePartnerSandbox
from .wire import Clock, Emulator


def build_emulators(clock: Clock, config: SandboxConfig) -> list[Emulator]:
    """One emulator per provider, sharing the clock."""
    emulators: list[Emulator] = [
        MailPartnerSandbox(clock, config),
        SmsPartnerSandbox(clock, config),
        VoicePartnerSandbox(clock, config),
        PecMassivaSandbox(clock=clock, settle_seconds=config.settle_seconds),
    ]
    return emulators
