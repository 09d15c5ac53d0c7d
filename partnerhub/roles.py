"""The three PartnerHub roles and the permissions each holds (product spec §1).

Groups are created by a data migration; their permissions are synced after every
`migrate` (permissions only exist once all apps have migrated) and by
`manage.py setup_roles`. Rules name whole apps with exclusions, so a model added
later lands in the right roles without touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MARKETING = "Marketing"
ADMINS = "Admins"
PEC_OPERATORS = "PEC operators"
ROLE_NAMES = (MARKETING, ADMINS, PEC_OPERATORS)


@dataclass(frozen=True)
class Rule:
    """All permissions of `app_label` matching `prefixes`, minus `exclude` codenames."""

    app_label: str
    prefixes: tuple[str, ...] = ("add_", "change_", "delete_", "view_")
    exclude: frozenset[str] = field(default_factory=frozenset)


_MAILBOX_SECRETS = frozenset(
    {"add_pecmailbox", "change_pecmailbox", "delete_pecmailbox"}
)
_SUBACCOUNT_WRITES = frozenset(
    {
        "add_provideraccount",
        "change_provideraccount",
        "delete_provideraccount",
        "add_creditsnapshot",
        "change_creditsnapshot",
        "delete_creditsnapshot",
        # Credit moves name who funded which sub-account: Admins only.
        "view_creditmove",
        "add_creditmove",
        "change_creditmove",
        "delete_creditmove",
    }
)


def _writes(*models: str) -> frozenset[str]:
    return frozenset(
        f"{verb}_{m}" for m in models for verb in ("add", "change", "delete")
    )


# Records written only by the application: nobody edits or deletes them.
_RECORDS = {
    "campaigns": _writes("delivery", "dispatchbatch", "recipientimport"),
    "unsubscribes": _writes("unsubscribesync", "smsreply"),
    "partnerhub": _writes("auditentry", "creditsnapshot"),
}
# What the product pages already offer Marketing is not granted again in the
# admin: deleting drafts and editing an unsubscribe are Admins' admin tasks; the
# pages need add/change_campaign (compose), add/delete_unsubscribe (add, remove).
_MARKETING_ADMIN_EXTRAS = frozenset({"delete_campaign", "change_unsubscribe"})

ROLE_RULES: dict[str, tuple[Rule, ...]] = {
    MARKETING: (
        Rule("campaigns", exclude=_RECORDS["campaigns"] | _MARKETING_ADMIN_EXTRAS),
        Rule(
            "unsubscribes",
            exclude=_RECORDS["unsubscribes"] | _MARKETING_ADMIN_EXTRAS,
        ),
        # Campaigns pick an account and show its credits; keys are never displayed.
        # The audit trail is for Admins.
        Rule("partnerhub", prefixes=("view_",), exclude=frozenset({"view_auditentry"})),
    ),
    ADMINS: (
        Rule("auth"),
        Rule("campaigns", exclude=_RECORDS["campaigns"]),
        Rule("unsubscribes", exclude=_RECORDS["unsubscribes"]),
        Rule("partnerhub", exclude=_RECORDS["partnerhub"]),
        Rule("pec"),
        Rule("django_q"),
    ),
    PEC_OPERATORS: (Rule("pec", exclude=_MAILBOX_SECRETS),),
}

# Custom permissions declared in models' Meta.permissions are matched by prefix too:
# list extra prefixes here when an app adds some (e.g. "send_", "cancel_").
CUSTOM_PREFIXES = ("send_", "cancel_", "export_", "import_", "sync_", "transfer_")


def permissions_for(role: str, permissions: list[Any]) -> list[Any]:
    """The subset of `permissions` (auth.Permission rows) that `role` should hold."""
    rules = ROLE_RULES[role]
    chosen = []
    for perm in permissions:
        app_label = perm.content_type.app_label
        for rule in rules:
            prefixes = rule.prefixes + CUSTOM_PREFIXES
            if (
                app_label == rule.app_label
                and perm.codename.startswith(prefixes)
                and perm.codename not in rule.exclude
                and not (role == MARKETING and perm.codename in _SUBACCOUNT_WRITES)
            ):
                chosen.append(perm)
                break
    return chosen


def roles_sync() -> dict[str, int]:
    """Create the groups if missing and give each exactly its permissions."""
    from django.contrib.auth.models import Group, Permission

    permissions = list(Permission.objects.select_related("content_type"))
    counts = {}
    for role in ROLE_NAMES:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = permissions_for(role, permissions)
        group.permissions.set(wanted)
        counts[role] = len(wanted)
    return counts


def sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook: run once, after the last installed app got its permissions."""
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is with_models[-1]:
        roles_sync()
