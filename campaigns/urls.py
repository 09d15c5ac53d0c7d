"""URLs of the campaign pages (namespace `campaigns`)."""

from django.urls import URLPattern, URLResolver, path

from campaigns.compose_urls import urlpatterns as compose_urlpatterns
from campaigns.views import follow

app_name = "campaigns"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", follow.CampaignListView.as_view(), name="list"),
    path("<int:pk>/", follow.CampaignDetailView.as_view(), name="detail"),
    path("<int:pk>/progress.json", follow.campaign_progress, name="progress"),
    path("<int:pk>/deliveries.csv", follow.campaign_export, name="export"),
    *compose_urlpatterns,
]
