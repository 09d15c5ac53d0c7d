"""The login form of the back office, with throttling (product spec §6, security)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import ngettext_lazy

from partnerhub import throttle


class ThrottledLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ngettext_lazy(
            "Too many failed sign-in attempts. Wait %(minutes)s minute, then try "
            "again, or ask an administrator to reset your password.",
            "Too many failed sign-in attempts. Wait %(minutes)s minutes, then try "
            "again, or ask an administrator to reset your password.",
            "minutes",
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        wait = throttle.locked_for(self.request, username)
        if wait:
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, -(-wait // 60))},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(self.request, username)
            raise
        throttle.record_success(self.request, username)
        return cleaned
