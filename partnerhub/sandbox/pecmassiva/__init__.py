"""PEC Massiva emulator for the sandbox server (mounted under `/pecmassiva`).

`emulator` routes and answers, `mailbox` holds the state and receipt texts, `seeds`
the messages a fresh mailbox starts with.
"""

from .emulator import PecMassivaSandbox
from .mailbox import CERTIFIED_DOMAIN_MARKERS, DEMO_MAILBOXES, DEMO_TOKEN, is_certified

__all__ = [
    "CERTIFIED_DOMAIN_MARKERS",
    "DEMO_MAILBOXES",
    "DEMO_TOKEN",
    "PecMassivaSandbox",
    "is_certified",
]
