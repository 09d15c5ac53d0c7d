"""Email and phone normalisation for the CSV reader: the rules live in
`partnerhub.rules` (one home per rule); this module re-exports them for the
import pipeline and its benchmarks."""

from partnerhub.rules import (
    DEFAULT_REGION,
    FALLBACK,
    fast_french_phone,
    has_control_characters,
    normalize_email,
    normalize_phone,
    reference_phone,
)

__all__ = [
    "DEFAULT_REGION",
    "FALLBACK",
    "fast_french_phone",
    "has_control_characters",
    "normalize_email",
    "normalize_phone",
    "reference_phone",
]
