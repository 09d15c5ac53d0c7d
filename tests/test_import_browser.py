"""A marketer imports a French Excel file in a real browser, start to finish."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from campaigns.audiences import services
from campaigns.models import Audience, Recipient
from tests.factories import PASSWORD, UserFactory
from tests.import_helpers import make_csv
from unsubscribes.models import Unsubscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


@pytest.fixture
def background_import(monkeypatch):
    """Run queued imports in a thread, slowed down so the bar visibly moves."""
    threads: list[threading.Thread] = []

    def run(import_id: int) -> None:
        try:
            services.recipient_import_run(
                import_id=import_id, workers=1, progress=lambda imp: time.sleep(0.4)
            )
        finally:
            connection.close()

    def enqueue(import_id: int) -> None:
        thread = threading.Thread(target=run, args=(import_id,))
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(services, "enqueue_import", enqueue)
    yield
    for thread in threads:
        thread.join(30)


def excel_file(rows: int) -> bytes:
    """Windows-1252, `;`, an address column Excel users named their own way."""
    lines = [["Nom", "Prénom", "Adresse électronique perso", "Portable", "Ville"]]
    for i in range(rows):
        lines.append([f"Lefèvre{i}", "Zoé", f"zoe{i}@exemple.fr", "", "Nîmes"])
    lines[3][2] = "pas-une-adresse"
    lines[7][2] = "encore@"
    return make_csv(lines, delimiter=";", encoding="cp1252")


def test_upload_map_watch_progress_and_download_errors(
    page, live_server, screenshot, settings, tmp_path, background_import
) -> None:
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    UserFactory(username="ana", groups=["Marketing"])
    audience = Audience.objects.create(name="Clients Sud", description="Newsletter")
    Unsubscribe.objects.create(channel="email", address="zoe10@exemple.fr")
    source = tmp_path / "clients-excel.csv"
    source.write_bytes(excel_file(20000))
    login(page, live_server, "ana")

    page.goto(f"{live_server.url}/audiences/")
    screenshot("audiences-list")
    page.click(f"a[href='/audiences/{audience.pk}/import/']")
    page.set_input_files("input[type=file]", str(source))
    screenshot("import-upload")
    page.click("#upload-submit")

    page.wait_for_selector("#mapping-form")
    assert page.inner_text("#detected-encoding") == "Windows-1252 (Excel)"
    # "Adresse électronique perso" is not a known name: map it by hand.
    page.select_option("#id_col_2", "email")
    page.select_option("#id_col_4", "ignore")
    page.click("#check-rows")
    page.wait_for_selector("#preview-rejected")
    rejected = page.locator("tr.ph-row-rejected th").all_inner_texts()
    assert rejected == ["4", "8"]
    page.check("input[name=mode][value=skip]")
    screenshot("import-preview")
    page.click("#start-import")

    page.wait_for_selector("#import-bar")
    screenshot("import-progress-running")
    # No click: the progress page opens the result by itself when the import ends.
    page.wait_for_url("**/result/", timeout=60_000)
    page.wait_for_selector("#result-counts")
    assert page.inner_text("#count-created") == "19,998"
    assert page.inner_text("#count-rejected") == "2"
    assert page.inner_text("#result-sum").startswith(
        "20,000 rows read = 19,998 created + 0 updated + 0 duplicates + 2 rejected."
    )
    assert page.locator("#result-problems tbody tr").count() == 2
    screenshot("import-result")
    with page.expect_download() as download:
        page.click("#error-download")
    report = download.value.path().read_text(encoding="utf-8-sig")
    assert "pas-une-adresse" in report
    assert report.splitlines()[1].startswith(
        "4;Rejected;The email address is not valid.;invalid_email;"
    )

    assert Recipient.objects.filter(audience=audience).count() == 19998
    assert not Recipient.objects.exclude(attributes={}).exists()  # Ville ignored
    page.goto(f"{live_server.url}/audiences/{audience.pk}/")
    screenshot("audience-detail")
    # Ids follow the merge's order, not the file's: find the flagged one by search.
    page.goto(f"{live_server.url}/audiences/{audience.pk}/?q=zoe10@exemple.fr")
    assert page.locator(".ph-badge-danger").count() == 1


def test_a_wide_preview_scrolls_inside_its_box_at_1440_px(
    page, live_server, screenshot, settings, tmp_path
) -> None:
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    UserFactory(username="ana", groups=["Marketing"])
    audience = Audience.objects.create(name="Clients")
    header = ["email", "phone", *[f"Attribut numéro {i} assez long" for i in range(14)]]
    rows = [header, ["a@x.fr", "0612345678", *["valeur longue"] * 14]]
    rows.append(["pas-une-adresse", "12", *["x"] * 14])
    source = tmp_path / "wide.csv"
    source.write_bytes(make_csv(rows))
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server, "ana")
    page.goto(f"{live_server.url}/audiences/{audience.pk}/import/")
    page.set_input_files("input[type=file]", str(source))
    page.click("#upload-submit")
    page.wait_for_selector("#mapping-form")
    screenshot("import-preview-wide-1440")
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits)
    box = page.locator(".ph-scroll")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # scrolls itself
    verdict = page.inner_text("tr.ph-row-rejected .ph-verdict")
    assert "Neither the email address nor the phone number is valid." in verdict
