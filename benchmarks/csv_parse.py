"""Benchmark the recipient CSV parse + validate pipeline against plain phonenumbers.

    .venv/bin/python benchmarks/csv_parse.py [--rows 1000000] [--compare-rows 100000]

Generates `var/bench_recipients_<rows>.csv` once (email, phone, first and last
name, French shapes mostly, some foreign, some invalid), then runs each mode in
a child process while this process samples the resident memory of the child's
whole process tree (workers and forkserver included) every 20 ms.

- `pipeline`: `open_csv` + `iter_batches` (fast path, worker pool), no database.
- `plain`: one process, `csv.reader` + the same email check + `phonenumbers`
  parse / is_valid / format for every phone: what a naive import does. It runs
  on the first `--compare-rows` rows (phonenumbers is slow) and is reported per
  row, so the two rates compare directly.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.rss import measure_child  # noqa: E402

FIRST = ["Jean", "Marie", "Zoé", "Hélène", "Luc", "Inès", "Noël", "Chloé"]
UNACCENT = str.maketrans("éèëïÉ", "eeeiE")
LAST = ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux"]


def _phone(rng: random.Random) -> str:
    """Mostly French mobiles and landlines as people type them."""
    nsn = rng.choice("6677123459") + "".join(rng.choices("0123456789", k=8))
    pairs = " ".join(nsn[i : i + 2] for i in range(1, 9, 2))
    roll = rng.random()
    if roll < 0.35:
        return f"0{nsn[0]} {pairs}"
    if roll < 0.55:
        return f"0{nsn}"
    if roll < 0.75:
        return f"+33{nsn}"
    if roll < 0.82:
        return f"+33 (0){nsn[0]} {pairs}"
    if roll < 0.87:
        return f"0033{nsn}"
    if roll < 0.92:
        return nsn  # Excel dropped the zero
    if roll < 0.97:
        foreign = rng.choice(["+32 470 {} {} 56", "+41 79 {} {} 67", "+44 7911 {}{}6"])
        return foreign.format(rng.randrange(10, 99), rng.randrange(10, 99))
    return rng.choice(["", "12", "06 12", "n/a"])


def generate(path: Path, rows: int) -> None:
    """Write the benchmark file once (UTF-8 with BOM, `;`, CRLF, like Excel)."""
    rng = random.Random(2024)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Courriel", "Téléphone portable", "Prénom", "Nom"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            ascii_name = f"{first}.{last}".translate(UNACCENT)
            email = f"{ascii_name}{i}@Exemple-{i % 97}.fr"
            if rng.random() < 0.01:
                email = email.replace("@", " ")
            writer.writerow([email, _phone(rng), first, last])
    tmp.rename(path)


def run_pipeline(path: Path, workers: int, batch_size: int) -> dict[str, float]:
    """Parse and validate the whole file through `iter_batches`."""
    from partnerhub.csvio import iter_batches, open_csv

    rows = errs = 0
    with path.open("rb") as handle:
        source = open_csv(handle)
        for batch in iter_batches(source, workers=workers, batch_size=batch_size):
            rows += len(batch.rows)
            errs += len(batch.errors)
    return {"rows": rows, "errors": errs}


def run_plain(path: Path, limit: int) -> dict[str, float]:
    """Single process: csv.reader, email check, phonenumbers for every phone."""
    from partnerhub.csvio.normalize import normalize_email, reference_phone

    rows = errs = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for index, (email, phone, _first, _last) in enumerate(reader):
            if index >= limit:
                break
            ok_email = normalize_email(email) if email else None
            ok_phone = reference_phone(phone) if phone else None
            if ok_email or ok_phone:
                rows += 1
            else:
                errs += 1
    return {"rows": rows, "errors": errs}


def child(args: argparse.Namespace) -> None:
    """Run one mode and print its counts and timing as JSON."""
    path = Path(args.file)
    start = time.perf_counter()
    if args.mode == "pipeline":
        result = run_pipeline(path, args.workers, args.batch_size)
    else:
        result = run_plain(path, args.compare_rows)
    result["seconds"] = time.perf_counter() - start
    print(json.dumps(result))


def measure(argv: list[str]) -> tuple[dict[str, float], float]:
    """Run a child mode of this script; its JSON result and the tree's peak MB."""
    return measure_child(__file__, argv)


def report(label: str, result: dict[str, float], peak: float) -> None:
    """One line: rows/s, elapsed ms, peak RSS of the process tree."""
    total = result["rows"] + result["errors"]
    rate = total / result["seconds"] if result["seconds"] else 0.0
    print(
        f"{label:<34} {int(total):>9} rows  {rate:>10,.0f} rows/s  "
        f"{result['seconds'] * 1000:>9,.0f} ms  peak RSS {peak:>6.1f} MB  "
        f"(valid {int(result['rows'])}, rejected {int(result['errors'])})"
    )


def main() -> None:
    """Generate the file if needed, then run and compare both modes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compare-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--mode", choices=["pipeline", "plain"])
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
    common += ["--batch-size", str(args.batch_size)]
    common += ["--compare-rows", str(args.compare_rows)]
    result, peak = measure(["--mode", "pipeline", *common])
    report(f"pipeline ({args.workers} workers, fast path)", result, peak)
    plain, plain_peak = measure(["--mode", "plain", *common])
    report("plain phonenumbers, 1 process", plain, plain_peak)
    if plain["seconds"] and result["seconds"]:
        ratio = (result["rows"] + result["errors"]) / result["seconds"]
        ratio /= (plain["rows"] + plain["errors"]) / plain["seconds"]
        print(f"speed-up: {ratio:.1f}x")


if __name__ == "__main__":
    main()
