"""`benchmarks/run_all.py`: every row of its table has a SQLite and a PostgreSQL
cell, the export's figures are read from its report, and a benchmark without a
PostgreSQL mode says so instead of failing the run."""

from __future__ import annotations

import pytest

from benchmarks import run_all

EXPORT_OUTPUT = """building or finding 1000000 deliveries ...
export via view       1000000 rows    20.11 s      49,729 rows/s  CPU   11.0 s    112.8 MB of CSV  peak RSS   91.6 MB  PostgreSQL  sha256 185c79da8de621ef
export via command    1000000 rows    22.18 s      45,079 rows/s  CPU   11.1 s    112.8 MB of CSV  peak RSS   87.2 MB  PostgreSQL  sha256 185c79da8de621ef
"""  # noqa: E501


def test_export_cells_read_time_rate_cpu_memory_and_digest() -> None:
    cell, digest = run_all.export_cells(0, EXPORT_OUTPUT)
    assert cell == (
        "view 20.11 s, 49,729 rows/s, CPU 11.0 s, 91.6 MB; "
        "command 22.18 s, 45,079 rows/s, CPU 11.1 s, 87.2 MB"
    )
    assert digest == "185c79da8de621ef"


def test_export_cells_of_a_failed_run() -> None:
    assert run_all.export_cells(1, EXPORT_OUTPUT) == ("failed", "—")
    assert run_all.export_cells(0, "Traceback ...") == ("failed", "—")


def test_import_without_a_postgresql_mode_is_reported_not_run(monkeypatch) -> None:
    monkeypatch.setattr(run_all, "takes_option", lambda script, option: False)

    def no_database(*args: object, **kwargs: object) -> str:
        raise AssertionError("no database is made for a benchmark that cannot use it")

    monkeypatch.setattr(run_all, "fresh_postgres", no_database)
    table: run_all.Table = {}
    assert run_all.import_benchmark(table, "PostgreSQL", "postgres://x/bench") == 0
    assert table[run_all.IMPORT_ROW] == {
        "PostgreSQL": "not run: needs import_recipients.py --database-url"
    }


def test_import_on_postgresql_gets_a_fresh_database_url(monkeypatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(run_all, "takes_option", lambda script, option: True)
    monkeypatch.setattr(
        run_all, "fresh_postgres", lambda url, suffix: f"{url}_{suffix}"
    )
    output = "PartnerHub import (2 workers)   1000000 rows    30.26 s  33,047 rows/s  peak RSS  230.5 MB  (…)"  # noqa: E501

    def run(argv: list[str]) -> tuple[int, str, float]:
        calls.append(argv)
        return 0, output, 1.0

    monkeypatch.setattr(run_all, "run", run)
    table: run_all.Table = {}
    assert run_all.import_benchmark(table, "PostgreSQL", "postgres://x/bench") == 0
    assert calls == [
        [
            "benchmarks/import_recipients.py",
            "--skip-iex",
            "--database-url",
            "postgres://x/bench_import",
        ]
    ]
    assert table[run_all.IMPORT_ROW] == {"PostgreSQL": "30.26 s, 230.5 MB"}


@pytest.mark.parametrize(
    ("postgres", "absent"), [(True, "—"), (False, "not run (no --postgres)")]
)
def test_table_has_a_sqlite_and_a_postgresql_column_on_every_row(
    capsys, postgres, absent
) -> None:
    table = {"export": {"SQLite": "a", "PostgreSQL": "b"}, "import": {"SQLite": "c"}}
    run_all.print_table(table, postgres=postgres)
    lines = capsys.readouterr().out.splitlines()
    assert "| work | SQLite | PostgreSQL |" in lines
    assert "| export | a | b |" in lines
    assert f"| import | c | {absent} |" in lines
