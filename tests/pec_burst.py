"""Worker process for the two-worker limiter proof (`python -m tests.pec_burst`).

`prepare N`: migrate the database named by DATABASE_URL, create the demo mailbox
and N confirmed (queued) sends. `work K`: dispatch the queued sends whose id is
K modulo 2, as a django-q worker would, through the shared limiter.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from pec import services
    from pec.models import DispatchStatus, PecMailbox, PecSend

    action, number = sys.argv[1], int(sys.argv[2])
    if action == "prepare":
        call_command("migrate", interactive=False, verbosity=0)
        box = PecMailbox.objects.create(
            label="Demo", username="demo@pecmassiva.com", password="demo-password"
        )
        for index in range(number):
            PecSend.objects.create(
                mailbox=box,
                recipients=[f"dest{index}@pec.example.it"],
                subject=f"Burst {index}",
                body_html="<p>burst</p>",
                status=DispatchStatus.QUEUED,
            )
        return
    ids = PecSend.objects.filter(status=DispatchStatus.QUEUED).values_list(
        "pk", flat=True
    )
    for send_id in [i for i in ids if i % 2 == number]:
        services.send_dispatch(send_id=send_id)


if __name__ == "__main__":
    main()
