"""Benchmark the recipient import end to end, side by side with django-import-export.

    .venv/bin/python benchmarks/import_recipients.py [--rows N] [--compare-rows N]

Uses the file of `benchmarks/csv_parse.py` (email, phone, first and last name;
UTF-8 BOM, `;`, CRLF; mostly French phone shapes, some foreign, some invalid),
generated once under `var/`. Each mode runs in a child process on a fresh
SQLite database (`var/bench_import_<mode>_<file>.sqlite3`, migrated before timing)
while this process samples the resident memory of the child's whole process
tree (parse workers included) every 20 ms.

- `partnerhub`: the import service as the background task runs it: parse and
  validate on every core into a spool, then merge into an empty audience in one
  transaction (dedupe by email and E.164 phone, suppression count).
- `iex-default` / `iex-email` / `iex-bulk`: django-import-export 4.4, a
  `ModelResource` on Recipient, on the first `--compare-rows` rows: its default
  settings; then `import_id_fields = ("email",)`, which looks each row up by
  email in the audience (deduplicating, as users need); then its documented bulk
  settings (`use_bulk`, `batch_size=1000`, `skip_diff`, `force_init_instance`).
  It validates nothing, so rows whose raw phone repeats (they would break the
  unique constraint) are dropped from its input first.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.csv_parse import generate  # noqa: E402
from benchmarks.rss import measure_child  # noqa: E402


def setup_django(mode: str, tag: str) -> None:
    """A fresh, migrated SQLite database for this mode and file (not timed)."""
    db = ROOT / "var" / f"bench_import_{mode}_{tag}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    os.environ.setdefault("DEBUG", "1")  # development defaults (sandbox)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def run_partnerhub(path: Path, workers: int) -> dict[str, float]:
    """Upload, start and run the import as the web page and task would."""
    from campaigns.audiences import services
    from campaigns.models import Audience, Recipient

    audience = Audience.objects.create(name="Benchmark")
    with path.open("rb") as handle:
        draft = services.recipient_import_create(
            audience=audience, file=handle, file_name=path.name
        )
    mapping = {int(i): f for i, f in draft.mapping.items()}
    start = time.perf_counter()
    services.recipient_import_start(
        recipient_import=draft, mapping=mapping, mode="update", enqueue=False
    )
    done = services.recipient_import_run(import_id=draft.pk, workers=workers)
    seconds = time.perf_counter() - start
    stored = Recipient.objects.filter(audience=audience).count()
    if done.status != "done" or stored != done.created:
        raise SystemExit(f"import ended {done.status}: {done.error_message}")
    return {
        "rows": done.rows_read,
        "seconds": seconds,
        "created": done.created,
        "duplicates": done.duplicates,
        "invalid": done.invalid,
    }


def iex_dataset(path: Path, limit: int) -> object:
    """The first `limit` rows as a tablib Dataset, repeated raw phones dropped."""
    import tablib

    data = tablib.Dataset(headers=["email", "phone", "first_name", "last_name"])
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for index, (email, phone, first, last) in enumerate(reader):
            if index >= limit:
                break
            if phone and phone in seen:
                continue
            seen.add(phone)
            data.append([email, phone, first, last])
    return data


def run_iex(path: Path, limit: int, mode: str) -> dict[str, float]:
    """django-import-export's ModelResource on Recipient: default, by email, bulk."""
    from import_export import resources

    from campaigns.models import Audience, Recipient

    audience = Audience.objects.create(name="Benchmark")

    class Meta:
        model = Recipient
        fields = ("id", "email", "phone", "first_name", "last_name")

    if mode == "iex-bulk":
        Meta.use_bulk, Meta.batch_size = True, 1000
        Meta.skip_diff, Meta.force_init_instance = True, True
    if mode == "iex-email":
        Meta.import_id_fields = ("email",)

    def init_instance(self: object, row: object = None) -> Recipient:
        # The audience is set here, not read per row through a ForeignKeyWidget
        # (one query per row): the fairest setup for it.
        return Recipient(audience_id=audience.pk)

    def get_queryset(self: object) -> object:
        # By email within the benchmark's audience (an index serves the lookup).
        return Recipient.objects.filter(audience_id=audience.pk)

    resource_class = type(
        "RecipientResource",
        (resources.ModelResource,),
        {"Meta": Meta, "init_instance": init_instance, "get_queryset": get_queryset},
    )
    dataset = iex_dataset(path, limit)
    start = time.perf_counter()
    result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - start
    return {
        "rows": len(dataset),
        "seconds": seconds,
        "created": result.totals.get("new", 0),
        "duplicates": 0,
        "invalid": 0,
    }


def child(args: argparse.Namespace) -> None:
    path = Path(args.file)
    setup_django(args.mode, path.stem)
    if args.mode == "partnerhub":
        from benchmarks._common import profiled

        with profiled(args.profile):
            result = run_partnerhub(path, args.workers)
    else:
        result = run_iex(path, args.compare_rows, args.mode)
    print(json.dumps(result))


def measure(argv: list[str]) -> tuple[dict[str, float], float]:
    """Run a child mode of this script; its JSON result (with `cpu`) and peak MB."""
    return measure_child(__file__, argv)


def report(label: str, result: dict[str, float], peak: float) -> float:
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
    print(
        f"{label:<46} {int(result['rows']):>9} rows {result['seconds']:>8.2f} s "
        f"{rate:>10,.0f} rows/s  peak RSS {peak:>6.1f} MB  "
        f"(created {int(result['created'])}, duplicates "
        f"{int(result['duplicates'])}, invalid {int(result['invalid'])}; "
        f"tree CPU {result['cpu']:.1f} s)",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compare-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-iex", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile PartnerHub's import with pyinstrument (main process, stderr).",
    )
    parser.add_argument(
        "--mode", choices=["partnerhub", "iex-default", "iex-email", "iex-bulk"]
    )
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.mode:
        child(args)
        return
    path = ROOT / "var" / f"bench_recipients_{args.rows}.csv"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        generate(path, args.rows)
    common = ["--file", str(path), "--workers", str(args.workers)]
    common += ["--compare-rows", str(args.compare_rows)]
    profile = ["--profile"] if args.profile else []
    ours, peak = measure(["--mode", "partnerhub", *common, *profile])
    rate = report(f"PartnerHub import ({args.workers} workers)", ours, peak)
    if args.skip_iex:
        return
    for mode, label, target in (
        ("iex-default", "django-import-export, default", 30),
        ("iex-email", "django-import-export, import_id_fields email", None),
        ("iex-bulk", "django-import-export, bulk settings", 2.5),
    ):
        other, other_peak = measure(["--mode", mode, *common])
        other_rate = report(label, other, other_peak)
        ratio = rate / other_rate if other_rate else 0.0
        if target is None:
            print(f"  PartnerHub / {label}: {ratio:.1f}x")
            continue
        verdict = "ok" if ratio >= target else "MISSED"
        print(f"  PartnerHub / {label}: {ratio:.1f}x (target >= {target}x) {verdict}")


if __name__ == "__main__":
    main()
