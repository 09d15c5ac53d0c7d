"""The branded PartnerHub admin: the home of the back office, with a dashboard index."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from . import dashboard
from .forms import ThrottledLoginForm


class PartnerHubAdminSite(admin.AdminSite):
    site_header = _("PartnerHub")
    site_title = _("PartnerHub")
    index_title = _("Dashboard")
    index_template = "admin/partnerhub_index.html"
    enable_nav_sidebar = True
    site_url = None  # the back office is the whole site: no "view site" link
    login_form = ThrottledLoginForm

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        context = {
            "cards": dashboard.cards_for(request.user),
            "quick_actions": dashboard.actions_for(request.user),
            "panels": dashboard.panels_for(request),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
