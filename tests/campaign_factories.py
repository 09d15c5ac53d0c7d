"""Factories for accounts, audiences, recipients and campaigns."""

from __future__ import annotations

import factory

from campaigns.models import Audience, Campaign, Recipient
from partnerhub.models import ProviderAccount


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderAccount
        django_get_or_create = ("provider", "name")

    provider = "mail"
    name = factory.LazyAttribute(lambda a: f"Main {a.provider}")


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    audience = factory.SubFactory(AudienceFactory)
    email = factory.Sequence(lambda n: f"client{n}@example.fr")
    phone = factory.Sequence(lambda n: f"+336{n:08d}")
    first_name = "Claire"
    last_name = "Martin"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "email"
    account = factory.LazyAttribute(
        lambda c: AccountFactory(provider={"email": "mail"}.get(c.channel, c.channel))
    )
    audience = factory.SubFactory(AudienceFactory)
    sender = factory.LazyAttribute(
        lambda c: {"email": "news@example.fr", "sms": "PartnerHub"}.get(c.channel, "")
    )
    subject = "Les soldes"
    html = "<p>Bonjour #FIRSTNAME#</p><a href='#UNSUBSCRIBE_LINK#'>stop</a>"
    text = "Bonjour, les soldes commencent. STOP au 36180"


def audience_with(n: int, **kwargs: object) -> Audience:
    audience = AudienceFactory()
    RecipientFactory.create_batch(n, audience=audience, **kwargs)
    return audience
