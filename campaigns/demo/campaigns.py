"""The demo's campaigns: a shop's last five weeks of email, SMS and voice."""

from __future__ import annotations

from typing import Any

from .history import Past

LOYAL, PROSPECTS, NEWSLETTER = (
    "Clients fidèles",
    "Prospects Île-de-France",
    "Abonnés newsletter",
)
SENDER = {"sender": "contact@maison-lumiere.fr", "sender_name": "Maison Lumière"}
UNSUBSCRIBE = '<p><small><a href="#UNSUBSCRIBE_LINK#">Se désinscrire</a></small></p>'


def email(subject: str, body: str) -> dict[str, Any]:
    return {
        **SENDER,
        "subject": subject,
        "html": f"<h1>Bonjour #FIRSTNAME#,</h1><p>{body}</p>{UNSUBSCRIBE}",
        "text": f"Bonjour #FIRSTNAME#,\n\n{body}",
    }


def sms(text: str) -> dict[str, Any]:
    """Premium SMS: the provider appends the STOP mention (isStopSms)."""
    return {"sender": "MLumiere", "text": text, "sms_stop": True}


PAST = (
    Past("Newsletter d'octobre", "email", LOYAL, 34,
         email("Les nouveautés d'octobre", "Découvrez notre collection d'automne."),
         delivered=0.955),
    Past("Vente flash du week-end", "sms", PROSPECTS, 27,
         sms("Vente flash ce week-end : -20 % sur tout avec le code FLASH20."),
         delivered=0.97, stop=0.012, hour=17),
    Past("Soldes privées — accès anticipé", "email", LOYAL, 20,
         email("Vos soldes privées commencent demain",
               "En avant-première, profitez de -30 % sur une sélection d'articles."),
         delivered=0.962),
    Past("Rappel vocal — rendez-vous conseiller", "voice", PROSPECTS, 15,
         {"text": "Bonjour, ici Maison Lumière. Votre conseiller vous attend samedi "
                  "en boutique. À bientôt.", "voice_lang": "fr"}),
    Past("Dernière chance : -30 %", "sms", LOYAL, 10,
         sms("Dernier jour des soldes privées : -30 % avec le code PRIVE30, "
             "en boutique et sur maison-lumiere.fr."),
         delivered=0.975, stop=0.008, parts=2, hour=12),
    Past("Newsletter de novembre", "email", NEWSLETTER, 6,
         email("Les nouveautés de novembre", "Nos idées cadeaux pour les fêtes."),
         delivered=0.948),
    Past("Black Friday — J-1", "sms", PROSPECTS, 2,
         sms("Black Friday demain dès 9 h : jusqu'à -40 %."), delivered=0.968,
         stop=0.01, hour=18),
)  # fmt: skip

FAILED = Past(
    "Invitation soirée clients", "email", LOYAL, 4,
    {**email("Vous êtes invité(e) jeudi soir", "Soirée privée en boutique."),
     "sender": "evenements@maison-lumiere.fr"}, hour=15,
)  # fmt: skip
FAILED_REASON = (
    "Mail Partner a refusé l'envoi : l'adresse d'expéditeur "
    "evenements@maison-lumiere.fr n'est pas validée sur ce compte. Faites-la "
    "valider dans votre espace Mail Partner, puis dupliquez la campagne pour "
    "l'envoyer à nouveau."
)
FAILED_ERROR = "Expéditeur non validé chez Mail Partner : aucun message envoyé."

CANCELLED = Past(
    "Relance panier abandonné", "sms", PROSPECTS, 8,
    sms("Votre panier vous attend : -10 % avec le code PANIER10 jusqu'à dimanche."),
)  # fmt: skip

DRAFTS = (
    Past("Newsletter de décembre", "email", NEWSLETTER, 0,
         email("Les nouveautés de décembre", "Notre sélection pour les fêtes.")),
    Past("SMS soldes d'hiver", "sms", LOYAL, 0,
         sms("Les soldes d'hiver commencent demain : -30 % sur tout.")),
)  # fmt: skip
# Negative: in the future (days from now).
SCHEDULED = Past(
    "Vente privée de décembre", "sms", LOYAL, -3,
    sms("Vente privée jeudi : -25 % pour nos clients fidèles, code NOEL25."),
)  # fmt: skip
