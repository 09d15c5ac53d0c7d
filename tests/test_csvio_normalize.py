"""Email and phone normalisation; the French fast path must equal phonenumbers."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerhub.csvio.normalize import (
    FALLBACK,
    fast_french_phone,
    normalize_email,
    normalize_phone,
    reference_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jean.Dupont@Example.FR", "jean.dupont@example.fr"),
        ("  JEAN@x.fr \t", "jean@x.fr"),
        ("o'brien+news@mail.co.uk", "o'brien+news@mail.co.uk"),
        ("zoé@café.fr", None),  # non-ASCII local part: refused
        ("zoe@Café.fr", "zoe@café.fr"),  # internationalised domain: kept
        ("a@b", None),
        ("a@b.c", None),
        ("a..b@x.fr", None),
        (".a@x.fr", None),
        ("a@-x.fr", None),
        ("a b@x.fr", None),
        ("a@x.fr.", None),
        ("@x.fr", None),
        ("a@@x.fr", None),
        ("x" * 65 + "@x.fr", None),
        ("a@" + "b" * 250 + ".fr", None),
        ("a@xn--caf-dma.fr", "a@xn--caf-dma.fr"),
        ("", None),
    ],
)
def test_email_is_validated_and_lower_cased_whole(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33612345678",
        "+33 6 12 34 56 78",
        "0033612345678",
        "0033 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+330612345678",
        "612345678",
        " (06) 12 34 56 78 ",
    ],
)
def test_french_mobile_shapes_give_e164(raw):
    assert normalize_phone(raw) == "+33612345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01 42 68 53 00", "+33142685300"),
        ("0800 123 456", "+33800123456"),
        ("+32 470 12 34 56", "+32470123456"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 7911 123456", "+447911123456"),
        ("06 12 34 56", None),
        ("00 12 34 56 78", None),
        ("0612345678 ext. 12", "+33612345678"),
        ("not a phone", None),
        ("", None),
    ],
)
def test_other_numbers_go_through_phonenumbers(raw, expected):
    assert normalize_phone(raw) == expected
    assert normalize_phone(raw) == reference_phone(raw)


def test_region_other_than_france_uses_the_library():
    assert normalize_phone("0470 12 34 56", region="BE") == "+32470123456"


SHAPES = ("0", "+33", "0033", "+33 (0)", "+330", "00330", "", "+33(0)", "0 ")
SEPARATORS = ("", "", " ", ".", "-", "  ", "(", ")", " - ")


def _dress(nsn: str, rng: random.Random) -> str:
    """A French number written the way people and CRMs write it."""
    body = "".join(
        d + (rng.choice(SEPARATORS) if rng.random() < 0.4 else "") for d in nsn
    )
    edge = rng.choice(("", "", " ", "-", "(", ")", "."))
    return edge + rng.choice(SHAPES) + rng.choice(SEPARATORS) + body + edge


@pytest.mark.slow
def test_fast_path_equals_phonenumbers_on_every_five_digit_prefix():
    """France's patterns look at five digits at most: cover all of them."""
    rng = random.Random(20240601)
    taken = 0
    for prefix in range(10_000, 100_000):
        nsn = f"{prefix}{rng.randrange(10_000):04d}"
        raw = _dress(nsn, rng)
        fast = fast_french_phone(raw.strip())
        taken += fast != FALLBACK
        assert normalize_phone(raw) == reference_phone(raw), raw
    assert taken > 85_000  # the fast path really is the common path


@pytest.mark.slow
def test_fast_path_equals_phonenumbers_on_random_numbers():
    rng = random.Random(7)
    for _ in range(110_000):
        nsn = "".join(
            rng.choice("0123456789") for _ in range(rng.choice((8, 9, 9, 10)))
        )
        raw = _dress(nsn, rng)
        assert normalize_phone(raw) == reference_phone(raw), raw


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789 .-()+x#/*", max_size=25))
def test_fast_path_equals_phonenumbers_on_phone_like_text(raw):
    assert normalize_phone(raw) == reference_phone(raw)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=30))
def test_fast_path_equals_phonenumbers_on_any_text(raw):
    assert normalize_phone(raw) == reference_phone(raw)


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(SHAPES),
    st.lists(
        st.tuples(st.sampled_from("0123456789"), st.sampled_from(SEPARATORS)),
        min_size=7,
        max_size=11,
    ),
)
def test_fast_path_equals_phonenumbers_on_generated_shapes(shape, pairs):
    raw = shape + "".join(d + s for d, s in pairs)
    assert normalize_phone(raw) == reference_phone(raw)


def test_fullwidth_digits_are_left_to_the_library():
    wide = "".join(chr(0xFF10 + int(d)) for d in "0612345678")
    assert fast_french_phone(wide) == FALLBACK
    assert normalize_phone(wide) == reference_phone(wide)
