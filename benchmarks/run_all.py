"""Run the benchmarks on SQLite and PostgreSQL, and print one table side by side.

    .venv/bin/python benchmarks/run_all.py [--postgres URL] [--recipients 100000]
        [--million] [--only dispatch,status_refresh,pages,export,import]

SQLite runs on fresh files under `var/bench/`. PostgreSQL runs when `--postgres`
(or a `postgres://` `DATABASE_URL`) names a server: each benchmark gets its own
database, `<name>_<benchmark>`, dropped and created again first (the page
benchmark's database is kept: its million rows are built once). `--million`
adds the 1,000,000-recipient dispatch. The import runs on both databases
(its own databases: `<name>_partnerhub` on PostgreSQL). The export benchmark
builds its own SQLite file and has no PostgreSQL mode yet: it runs once, on
SQLite. Each benchmark's own output is printed as it runs; the table at the end
is Markdown, with the date, the machine and its load, for the README.
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    env = os.environ.get("DATABASE_URL", "")
    parser.add_argument("--postgres", default=env if env.startswith("postgres") else "")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--only", default="dispatch,status_refresh,pages,export,import")
    return parser.parse_args()


def fresh_postgres(url: str, suffix: str, *, keep: bool = False) -> str:
    """The URL of database `<name>_<suffix>` on the same server, created anew."""
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
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    print(done.stdout + done.stderr[-2000:], flush=True)
    return done.returncode, done.stdout, time.perf_counter() - start


def figure(output: str, label: str) -> str:
    """The value printed after `label` on its report line ('—' if absent)."""
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", output, re.M)
    return match.group(1).split("(")[0].strip() if match else "—"


def dispatch_cell(code: int, output: str) -> str:
    """Total time, and the application's share (per recipient when printed)."""
    if code:
        return "failed"
    app = figure(output, "app per recipient")
    if app == "—":
        app = figure(output, "app side")
    return f"{figure(output, 'total')}; app {app}"


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


def import_cell(code: int, output: str) -> str:
    """Import time, peak memory and the pages' p95 while the merge ran."""
    ours = re.search(r"rows\s+([\d.]+) s .*peak RSS\s+([\d.]+) MB", output)
    pages = re.search(r"while the merge runs\s+.*?p95\s+([\d.]+) ms", output)
    if code or not ours:
        return "failed"
    cell = f"{ours.group(1)} s, {ours.group(2)} MB"
    return cell + (f"; pages p95 {pages.group(1)} ms while merging" if pages else "")


def main() -> int:
    args = parse_args()
    only = set(args.only.split(","))
    BENCH.mkdir(parents=True, exist_ok=True)
    databases = {"SQLite": ""}
    if args.postgres:
        databases["PostgreSQL"] = args.postgres
    table: dict[str, dict[str, str]] = {}
    failed = 0
    sizes = [args.recipients] + ([1_000_000] if args.million else [])
    for engine, url in databases.items():
        for script in ("dispatch", "status_refresh"):
            if script not in only:
                continue
            for size in sizes if script == "dispatch" else [args.recipients]:
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
        if "pages" in only:
            target = (
                fresh_postgres(url, "pages", keep=True)
                if url
                else f"sqlite:///{BENCH / 'pages.sqlite3'}"
            )
            code, out, _ = run(["benchmarks/pages.py", "--database-url", target])
            failed += code != 0
            table.setdefault("pages (16 lists and details)", {})[engine] = pages_cell(
                code, out
            )
    if "export" in only:
        code, out, seconds = run(["benchmarks/export_deliveries.py"])
        table["export 1,000,000 deliveries"] = {"SQLite": f"{seconds:.0f} s in all"}
        failed += code != 0
    if "import" in only:
        for engine, url in databases.items():
            argv = ["benchmarks/import_recipients.py", "--skip-iex"]
            code, out, _ = run([*argv, *(["--database-url", url] if url else [])])
            failed += code != 0
            table.setdefault("import 1,000,000 rows", {})[engine] = import_cell(
                code, out
            )
    print_table(table, list(databases))
    return 1 if failed else 0


def print_table(table: dict[str, dict[str, str]], engines: list[str]) -> None:
    load = os.getloadavg()[0]
    machine = f"{platform.node()}, {os.cpu_count()} CPU, load {load:.1f}"
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {machine}\n")
    print("| work | " + " | ".join(engines) + " |")
    print("|---|" + "---|" * len(engines))
    for work, cells in table.items():
        print(f"| {work} | " + " | ".join(cells.get(e, "—") for e in engines) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
