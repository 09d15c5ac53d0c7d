"""Demo audiences: a few thousand French recipients, made up but plausible.

Deterministic (a seeded random generator), so two demo databases look alike and a
screenshot in a bug report matches what the reader sees.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from partnerhub.rules import normalize_phone

from ..models import Audience, Recipient


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Camille Louis Léa Hugo Chloé Jules Manon Arthur Inès Gabriel Jade Raphaël "
    "Louise Lucas Emma Nathan Alice Théo Zoé Paul Lina Victor Rose Maël Anna Tom "
    "Juliette Noah Margaux Adam Élise Baptiste Clémence Antoine Océane Mathis "
    "Sarah Maxime Pauline Julien Aurélie Nicolas Céline Thomas Sophie François"
)
LAST_NAMES = _words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
    "Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel "
    "Girard André Lefebvre Mercier Dupont Lambert Bonnet François Martinez Legrand "
    "Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin "
    "Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin"
)
DOMAINS = (
    ("gmail.com", 30),
    ("orange.fr", 18),
    ("free.fr", 10),
    ("hotmail.fr", 9),
    ("outlook.fr", 7),
    ("laposte.net", 7),
    ("sfr.fr", 6),
    ("wanadoo.fr", 5),
    ("yahoo.fr", 5),
    ("icloud.com", 3),
)
CITIES = ("Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse")


@dataclass(frozen=True)
class AudienceSpec:
    name: str
    description: str
    size: int
    email_share: float  # share of recipients with an email address
    phone_share: float  # share with a mobile number


AUDIENCES = (
    AudienceSpec(
        "Clients fidèles",
        "Clients ayant acheté au moins deux fois cette année (export boutique).",
        1800,
        0.96,
        0.88,
    ),
    AudienceSpec(
        "Prospects Île-de-France",
        "Contacts du salon de Paris et du formulaire du site, opt-in SMS.",
        1150,
        0.55,
        1.0,
    ),
    AudienceSpec(
        "Abonnés newsletter",
        "Inscrits à la newsletter depuis le site.",
        700,
        1.0,
        0.15,
    ),
)


def ascii_slug(text: str) -> str:
    """`Élise Lefèvre` → `elise.lefevre` (what people type in an address)."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return flat.lower().replace(" ", ".").replace("'", "")


class People:
    """Hands out names, unique emails and unique mobile numbers."""

    def __init__(self, seed: int = 2026) -> None:
        self.random = random.Random(seed)  # noqa: S311 - made-up people, not secrets
        self.emails: set[str] = set()
        self.phone_counter = 0

    def name(self) -> tuple[str, str]:
        return self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)

    def email(self, first: str, last: str) -> str:
        domains, weights = zip(*DOMAINS, strict=True)
        domain = self.random.choices(domains, weights)[0]
        shapes = (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}")
        local = ascii_slug(self.random.choice(shapes))
        address = f"{local}@{domain}"
        while address in self.emails:
            address = f"{local}{self.random.randint(1, 99)}@{domain}"
        self.emails.add(address)
        return address

    def phone(self) -> str:
        """+336 / +337 mobiles, all different (a prime step over 10^8), and all
        valid by the app's own rules (some ranges are not allocated: a number
        there would be refused by the import and left out of the provider sync)."""
        while True:
            self.phone_counter += 1
            number = (21_474_836 + self.phone_counter * 7_919) % 100_000_000
            prefix = "7" if self.phone_counter % 5 == 0 else "6"
            phone = f"+33{prefix}{number:08d}"
            if normalize_phone(phone) == phone:
                return phone


def create_audiences() -> list[Audience]:
    """The demo audiences and their recipients, in one bulk insert each."""
    people = People()
    audiences = []
    for spec in AUDIENCES:
        audience = Audience.objects.create(name=spec.name, description=spec.description)
        Recipient.objects.bulk_create(
            (_recipient(people, audience, spec) for _ in range(spec.size)),
            batch_size=500,
        )
        audiences.append(audience)
    return audiences


def _recipient(people: People, audience: Audience, spec: AudienceSpec) -> Recipient:
    first, last = people.name()
    has_email = people.random.random() < spec.email_share
    has_phone = people.random.random() < spec.phone_share or not has_email
    return Recipient(
        audience=audience,
        email=people.email(first, last) if has_email else "",
        phone=people.phone() if has_phone else "",
        first_name=first,
        last_name=last,
        attributes={"ville": people.random.choice(CITIES)},
    )
