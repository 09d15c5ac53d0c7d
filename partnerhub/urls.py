from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on a page that names no icon (the error pages).

    Resolved per request: the manifest's hashed name exists only after collectstatic.
    """
    return HttpResponseRedirect(static("partnerhub/favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("favicon.ico", login_not_required(favicon), name="favicon"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("campaigns/", include("campaigns.urls")),
    path("audiences/", include("campaigns.audience_urls")),
    path("unsubscribes/", include("unsubscribes.urls")),
    path("audit/", include("partnerhub.audit_urls")),
    path("accounts/", include("partnerhub.accounts.urls")),
    path("pec/", include("pec.urls")),
    path("admin/", admin.site.urls),
]
