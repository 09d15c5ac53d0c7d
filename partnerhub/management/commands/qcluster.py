"""`manage.py qcluster`, with a stop bounded by Q_STOP_GRACE_SECONDS.

This command shadows django-q2's own (the `partnerhub` app comes first in
INSTALLED_APPS) and starts `partnerhub.qcluster.GracefulCluster` instead.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django_q.management.commands.qcluster import Command as DjangoQCommand

from partnerhub.qcluster import GracefulCluster


class Command(DjangoQCommand):
    help = (
        "Start the background worker (django-q2 cluster). SIGTERM or Ctrl-C stops it: "
        "busy workers get Q_STOP_GRACE_SECONDS to finish, then are ended."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        assert settings.SECRET_KEY  # signing needs it, as in django-q2's command
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = GracefulCluster()
        cluster.start()
        if options.get("run_once", False):
            cluster.stop()
