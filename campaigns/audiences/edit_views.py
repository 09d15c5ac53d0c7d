"""Create and rename an audience on the product pages (not in the admin's form)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from campaigns.models import Audience
from campaigns.services import audience_save
from partnerhub.pages import page_context

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class AudienceForm(forms.ModelForm):
    class Meta:
        model = Audience
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "name": _("How your colleagues find it when they pick an audience."),
            "description": _("Optional: where the recipients come from."),
        }


@permission_required("campaigns.add_audience", raise_exception=True)
def audience_create(request: HttpRequest) -> HttpResponse:
    """A new empty audience, then straight to its page to import recipients."""
    return _edit(request, Audience(), title=_("New audience"))


@permission_required("campaigns.change_audience", raise_exception=True)
def audience_edit(request: HttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience, pk=pk)
    return _edit(request, audience, title=_("Rename the audience"))


def _edit(
    request: HttpRequest, audience: Audience, *, title: StrPromise
) -> HttpResponse:
    creating = audience.pk is None
    form = AudienceForm(request.POST or None, instance=audience)
    if request.method == "POST" and form.is_valid():
        try:
            saved = audience_save(audience=form.save(commit=False), actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            done = (
                _("Audience created: import its recipients from a CSV file.")
                if creating
                else _("Audience saved.")
            )
            messages.success(request, done)
            return redirect("audiences:detail", saved.pk)
    context = page_context(
        request, title=title, form=form, audience=None if creating else audience
    )
    return render(request, "audiences/edit.html", context)
