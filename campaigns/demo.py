"""Demo audience and draft campaigns for `manage.py demo` (created once)."""

from __future__ import annotations

from django.db import transaction

from partnerhub.models import Provider
from partnerhub.services import accounts_ensure_main

from .models import Audience, Campaign, Recipient

FIRST_NAMES = ["Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon", "Arthur"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit"]


@transaction.atomic
def seed() -> None:
    accounts = {a.provider: a for a in accounts_ensure_main()}
    audience, created = Audience.objects.get_or_create(
        name="Clients démo", defaults={"description": "Audience de démonstration"}
    )
    if not created:
        return
    Recipient.objects.bulk_create(
        Recipient(
            audience=audience,
            email=("bounce" if i % 10 == 9 else "client") + f"{i}@exemple.fr",
            phone=f"+3361234{i:04d}",
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[i % len(LAST_NAMES)],
        )
        for i in range(40)
    )
    Campaign.objects.create(
        name="Newsletter de novembre",
        channel="email",
        account=accounts[Provider.MAIL],
        audience=audience,
        sender="newsletter@exemple.fr",
        sender_name="PartnerHub Démo",
        subject="Nos nouveautés de novembre",
        html="<h1>Bonjour #FIRSTNAME#</h1><p>Découvrez nos offres.</p>"
        '<p><a href="#UNSUBSCRIBE_LINK#">Se désinscrire</a></p>',
        text="Bonjour, découvrez nos offres de novembre.",
    )
    Campaign.objects.create(
        name="SMS soldes d'hiver",
        channel="sms",
        account=accounts[Provider.SMS],
        audience=audience,
        sender="PartnerHub",
        text="Les soldes d'hiver commencent demain : -30% sur tout.",
        sms_stop=True,  # the provider appends the mention (isStopSms)
    )
