"""PEC Massiva (Openapi, ws.pecmassiva.com) client.

A package rather than one module to stay under the ~400-line mark: `client` holds the
HTTP operations, `results` the typed values returned, `wire` every assumption about
the wire format (spec INFERRED/REPORTED notes), `throttle` the 1 request/second pacing.
"""

from .client import STATUS_ERRORS, PecMassivaClient
from .results import (
    InboxItem,
    InboxMessage,
    InboxPage,
    PecAttachment,
    PecReceipt,
    PecSendResult,
    PecSendState,
    PecSendStatus,
    Quota,
    ReceiptType,
)
from .throttle import InProcessSendThrottle, SendThrottle, process_throttle, token_key
from .wire import decode_body, derive_state, final_notices, receipt_type

__all__ = [
    "STATUS_ERRORS",
    "InProcessSendThrottle",
    "InboxItem",
    "InboxMessage",
    "InboxPage",
    "PecAttachment",
    "PecMassivaClient",
    "PecReceipt",
    "PecSendResult",
    "PecSendState",
    "PecSendStatus",
    "Quota",
    "ReceiptType",
    "SendThrottle",
    "decode_body",
    "derive_state",
    "final_notices",
    "process_throttle",
    "receipt_type",
    "token_key",
]
