"""Run the benchmarks on SQLite and PostgreSQL, and print one table side by side.

    .venv/bin/python benchmarks/run_all.py [--postgres URL] [--recipients 100000]
        [--million] [--only dispatch,status_refresh,pages,export,import]

Every benchmark runs on both databases: SQLite on files under `var/bench/`,
PostgreSQL when `--postgres` (or a `postgres://` `DATABASE_URL`) names a server,
each benchmark in its own database `<name>_<benchmark>`. Dispatch, status
refresh and import get theirs dropped and created again first; the page and
export benchmarks keep theirs (their million rows are built once, like their
SQLite files). `--million` adds the 1,000,000-recipient dispatch and status refresh.

- dispatch and status refresh: `--recipients` (100,000), `--database-url`;
- pages: 27 lists and details over a million rows, p95 per page;
- export: 1,000,000 deliveries as CSV, through the view and the command, with
  the CSV's SHA-256 (the same data on both databases: the same bytes);
- import: 1,000,000 CSV rows; on PostgreSQL only if `import_recipients.py`
  takes `--database-url` (the table says so otherwise).

Each benchmark's own output is printed as it runs; the table at the end is
Markdown, a SQLite and a PostgreSQL column on every row, with the date, the
machine and its load, for the README. Children never inherit `DATABASE_URL`:
each is told its database.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
ENGINES = ("SQLite", "PostgreSQL")
IMPORT_ROW = "import 1,000,000 rows"
Table = dict[str, dict[str, str]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    env = os.environ.get("DATABASE_URL", "")
    parser.add_argument("--postgres", default=env if env.startswith("postgres") else "")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--only", default="dispatch,status_refresh,pages,export,import")
    return parser.parse_args()


def fresh_postgres(url: str, suffix: str, *, keep: bool = False) -> str:
    """The URL of database `<name>_<suffix>` on the same server, created anew
    (or only created when missing, with `keep`)."""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'partnerhub'}_{suffix}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and not keep:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not keep:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(argv: list[str]) -> tuple[int, str, float]:
    """Run one benchmark, echoing its output; (exit code, output, seconds)."""
    print(f"\n$ {' '.join(argv)}", flush=True)
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout + done.stderr[-2000:], flush=True)
    return done.returncode, done.stdout, time.perf_counter() - start


def takes_option(script: str, option: str) -> bool:
    """Whether `script --help` lists `option` (a benchmark may not have it yet)."""
    done = subprocess.run(
        [sys.executable, script, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return option in done.stdout


def figure(output: str, label: str) -> str:
    """The value printed after `label` on its report line ('—' if absent)."""
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", output, re.M)
    return match.group(1).split("(")[0].strip() if match else "—"


def dispatch_cell(code: int, output: str) -> str:
    """Total time, and the application's share: per recipient (dispatch) or the
    refresh process's CPU (its provider calls overlap: no wall-time share)."""
    if code:
        return "failed"
    app = figure(output, "app per recipient")
    if app != "—":
        return f"{figure(output, 'total')}; app {app}"
    return f"{figure(output, 'total')}; CPU {figure(output, 'process CPU')}"


def pages_cell(code: int, output: str) -> str:
    rows = re.findall(r"^(.{34})\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", output, re.M)
    if not rows:
        return "failed"
    worst = max(rows, key=lambda r: float(r[2]))
    missed = output.count("MISSED")
    return (
        f"worst p95 {worst[2]} ms ({worst[0].strip()}); "
        f"{len(rows) - missed}/{len(rows)} pages ≤ 100 ms"
    )


EXPORT_LINE = re.compile(
    r"^export via (\w+)\s+\d+ rows\s+([\d.]+) s\s+([\d,]+) rows/s\s+CPU\s+([\d.]+) s"
    r".*peak RSS\s+([\d.]+) MB.*sha256 (\w+)",
    re.M,
)


def export_cells(code: int, output: str) -> tuple[str, str]:
    """(time, rows/s, CPU and peak memory per mode; the CSV's SHA-256)."""
    found = EXPORT_LINE.findall(output)
    if code or not found:
        return "failed", "—"
    cell = "; ".join(
        f"{mode} {seconds} s, {rate} rows/s, CPU {cpu} s, {peak} MB"
        for mode, seconds, rate, cpu, peak, _digest in found
    )
    digests = sorted({digest for *_, digest in found})
    return cell, " / ".join(digests)


def import_cell(code: int, output: str) -> str:
    """Import time, peak memory and the pages' p95 while the merge ran."""
    ours = re.search(r"rows\s+([\d.]+) s .*peak RSS\s+([\d.]+) MB", output)
    pages = re.search(r"while the merge runs\s+.*?p95\s+([\d.]+) ms", output)
    if code or not ours:
        return "failed"
    cell = f"{ours.group(1)} s, {ours.group(2)} MB"
    return cell + (f"; pages p95 {pages.group(1)} ms while merging" if pages else "")


def campaign_benchmarks(
    table: Table, engine: str, url: str, args: argparse.Namespace
) -> int:
    """Dispatch and status refresh of 100,000 (and a million with `--million`)."""
    failed = 0
    only = set(args.only.split(","))
    sizes = [args.recipients] + ([1_000_000] if args.million else [])
    for script in ("dispatch", "status_refresh"):
        if script not in only:
            continue
        for size in sizes:
            target = (
                fresh_postgres(url, script)
                if url
                else f"sqlite:///{BENCH / f'{script}.sqlite3'}"
            )
            argv = [f"benchmarks/{script}.py", "--recipients", str(size)]
            code, out, _ = run([*argv, "--database-url", target])
            failed += code != 0
            row = f"{script.replace('_', ' ')} {size:,}"
            table.setdefault(row, {})[engine] = dispatch_cell(code, out)
    return failed


def pages_benchmark(table: Table, engine: str, url: str) -> int:
    target = (
        fresh_postgres(url, "pages", keep=True)
        if url
        else f"sqlite:///{BENCH / 'pages.sqlite3'}"
    )
    code, out, _ = run(["benchmarks/pages.py", "--database-url", target])
    row = "pages (27 lists and details)"
    table.setdefault(row, {})[engine] = pages_cell(code, out)
    return int(code != 0)


def export_benchmark(table: Table, engine: str, url: str) -> int:
    """The export's own SQLite file, or a kept `<name>_export` database."""
    argv = ["benchmarks/export_deliveries.py"]
    if url:
        argv += ["--database-url", fresh_postgres(url, "export", keep=True)]
    code, out, _ = run(argv)
    cell, digest = export_cells(code, out)
    table.setdefault("export 1,000,000 deliveries (view; command)", {})[engine] = cell
    table.setdefault("export CSV SHA-256 (same data: same bytes)", {})[engine] = digest
    return int(code != 0)


def import_benchmark(table: Table, engine: str, url: str) -> int:
    script = "benchmarks/import_recipients.py"
    argv = [script, "--skip-iex"]
    if url:
        if not takes_option(script, "--database-url"):
            cell = "not run: needs import_recipients.py --database-url"
            table.setdefault(IMPORT_ROW, {})[engine] = cell
            return 0
        argv += ["--database-url", fresh_postgres(url, "import")]
    code, out, _ = run(argv)
    table.setdefault(IMPORT_ROW, {})[engine] = import_cell(code, out)
    return int(code != 0)


def main() -> int:
    args = parse_args()
    only = set(args.only.split(","))
    BENCH.mkdir(parents=True, exist_ok=True)
    databases = {"SQLite": ""}
    if args.postgres:
        databases["PostgreSQL"] = args.postgres
    table: Table = {}
    failed = 0
    for engine, url in databases.items():
        failed += campaign_benchmarks(table, engine, url, args)
        if "pages" in only:
            failed += pages_benchmark(table, engine, url)
        if "export" in only:
            failed += export_benchmark(table, engine, url)
        if "import" in only:
            failed += import_benchmark(table, engine, url)
    print_table(table, postgres=bool(args.postgres))
    return 1 if failed else 0


def print_table(table: Table, *, postgres: bool) -> None:
    """Markdown: one row per work, a SQLite and a PostgreSQL column each."""
    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    machine = f"{platform.node()}, {os.cpu_count()} CPU, load average {load}"
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {machine}\n")
    print("| work | " + " | ".join(ENGINES) + " |")
    print("|---|" + "---|" * len(ENGINES))
    missing = "—" if postgres else "not run (no --postgres)"
    for work, cells in table.items():
        shown = [cells.get("SQLite", "—"), cells.get("PostgreSQL", missing)]
        print(f"| {work} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
