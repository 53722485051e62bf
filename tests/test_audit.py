"""The audit trail (semantic.audit, docs/audit.md): each compile, query and explain of the CLI
and the Python API writes one JSON line with who asked what, the outcome, the duration and
the row count; never a value returned, a parameter's value or a password; whole lines only
under many threads and processes; a new file of mode 0600; and no work without its record
(SEM114, SEM448, SEM449)."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import semantic
from semantic.audit import ENV, audited, scope
from semantic.audit.sink import Sink
from semantic.engines.urls import redact
from semantic.errors import CODES, SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import SALES_MODEL, write_data, write_project

DOC = ROOT / "docs" / "audit.md"

TINY_GLOSSARY = """
domain: sales
terms:
  shop:
    label: {en: Shop}
    dimension: {entity: sales, expr: shop}
  revenue:
    label: {en: Revenue}
    metric: {entity: sales, expr: sum(amount)}
"""


def records(path: Path) -> list[dict[str, Any]]:
    """The records of an audit file, each line parsed on its own."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Each (dotted key, value) of a record's nested objects; lists are values."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, value


def tiny(tmp_path: Path, audit: str | None = "logs/audit.jsonl") -> Path:
    """A one-table project whose semantic.yml turns auditing on (in `audit`'s file)."""
    config = "name: tiny\ndata:\n  dir: data\n"
    if audit is not None:
        config += f"audit:\n  file: {audit}\n"
    (tmp_path / "tiny").mkdir()
    root = write_project(
        tmp_path / "tiny",
        {"models/m.yml": SALES_MODEL, "glossary/g.yml": TINY_GLOSSARY},
        config,
    )
    (root / "logs").mkdir()
    write_data(
        root,
        {
            "sales": "SELECT * FROM (VALUES (1, DATE '2024-01-01', 'Lyon', 41017), "
            "(2, DATE '2024-01-02', 'Nantes', 52391)) t(id, day, shop, amount)"
        },
    )
    return root


def test_a_cli_query_writes_every_field_and_no_value(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    query = "SELECT customer_nation, order_count WHERE customer_region = $region"
    done = run_cli(
        "--audit-file",
        path,
        "--caller",
        "ann",
        "query",
        "-f",
        "csv",
        "--param",
        "region=AMERICA",
        query,
    )
    assert done.exit_code == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert len(rows) == 5
    [record] = records(path)
    event = record["event"]
    assert (event["kind"], event["category"], event["type"]) == ("event", ["database"], ["access"])
    assert (event["action"], event["outcome"], event["dataset"]) == (
        "query",
        "success",
        "semantic.audit",
    )
    start = datetime.fromisoformat(record["@timestamp"])
    end = datetime.fromisoformat(event["end"])
    assert record["@timestamp"].endswith("Z") and event["start"] == record["@timestamp"]
    assert isinstance(event["duration"], int) and event["duration"] > 0
    assert abs((end - start).total_seconds() * 1e9 - event["duration"]) < 1000
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])
    assert record["user"] == {"name": "ann", "roles": []}
    assert record["process"] == {"pid": os.getpid(), "user": {"name": getpass.getuser()}}
    assert record["host"] == {"name": socket.gethostname()}
    assert record["service"] == {"name": "semantic", "version": semantic.__version__}
    assert record["ecs"]["version"].startswith("8.")
    assert record["error"] == {"code": None, "message": None, "type": None}
    assert record["message"] == "semantic query by ann: success"
    ours = record["semantic"]
    assert ours["query"] == {"text": query, "form": "text"}
    assert ours["terms"] == ["customer_nation", "order_count", "customer_region"]
    assert ours["params"] == ["region"]
    assert ours["rows"] == 5
    assert (ours["surface"], ours["command"]) == ("cli", "query")
    assert ours["engine"] == {"name": "duckdb", "url": "duckdb:"}
    assert ours["dialect"] == "duckdb"
    assert ours["model"]["name"] == "tpch" and re.fullmatch(r"[0-9a-f]{64}", ours["model"]["hash"])
    assert (ours["decisions"], ours["error_codes"], ours["warning_codes"]) == (None, [], [])
    assert ours["user_attributes"] == []
    # no value returned, and not the parameter's value: the only numbers are these three
    text = path.read_text()
    for value in {cell for row in rows for cell in row if not cell.isdigit()} | {"AMERICA"}:
        assert value not in text
    numbers = {k for k, v in leaves(record) if isinstance(v, int | float)}
    assert numbers == {"process.pid", "event.duration", "semantic.rows"}


def test_compile_and_explain_are_recorded_and_failures_with_their_code(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    assert run_cli("--audit-file", path, "compile", "-d", "postgres", "SELECT order_count")[0] == 0
    assert run_cli("--audit-file", path, "explain", "SELECT net_revenue").exit_code == 0
    failed = run_cli("--audit-file", path, "compile", "SELECT customer_region, zzz_unknown")
    assert failed.exit_code == 1 and "SEM303" in failed.stderr
    missing = run_cli("--audit-file", path, "query", "SELECT order_count WHERE x = $nope")
    assert missing.exit_code == 1
    compiled, explained, unknown, refused = records(path)
    assert (compiled["event"]["action"], compiled["semantic"]["dialect"]) == ("compile", "postgres")
    assert compiled["event"]["type"] == ["info"] and compiled["semantic"]["rows"] is None
    assert (explained["event"]["action"], explained["semantic"]["terms"]) == (
        "explain",
        ["net_revenue"],
    )
    assert unknown["event"]["outcome"] == "failure"
    assert unknown["event"]["type"] == ["info", "error"]
    assert unknown["error"] == {
        "code": "SEM303",
        "message": f"SEM303: {CODES['SEM303']}",
        "type": "SemanticError",
    }
    assert unknown["semantic"]["error_codes"] == ["SEM303"]
    assert unknown["semantic"]["query"]["text"] == "SELECT customer_region, zzz_unknown"
    assert unknown["message"] == f"semantic compile by {getpass.getuser()}: failure"
    assert refused["event"]["outcome"] == "failure" and refused["semantic"]["rows"] is None
    assert refused["error"]["code"] in CODES and refused["event"]["action"] == "query"


def test_an_engine_error_is_recorded_without_the_password(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    path = tmp_path / "audit.jsonl"
    url = "postgresql://ann:s3cretpw@127.0.0.1:1/sales?password=hunter2&sslmode=disable"
    done = run_cli("--audit-file", path, "query", "--engine", url, "SELECT order_count")
    assert done.exit_code == 1
    [record] = records(path)
    assert record["error"]["code"] == "SEM411" and record["event"]["outcome"] == "failure"
    assert record["semantic"]["engine"] == {
        "name": None,
        "url": "postgresql://ann:***@127.0.0.1:1/sales?password=***&sslmode=disable",
    }
    assert "s3cretpw" not in done.stderr and "hunter2" not in done.stderr
    assert record["semantic"]["dialect"] == "postgres"
    text = path.read_text()
    assert "s3cretpw" not in text and "hunter2" not in text


def test_urls_lose_their_secrets() -> None:
    assert redact("postgresql://:pw@db/x") == "postgresql://:***@db/x"
    assert redact("postgresql://ann:${PW}@db/x") == "postgresql://ann:***@db/x"
    assert redact("postgresql://ann@db/x?sslkey=k&application_name=a") == (
        "postgresql://ann@db/x?sslkey=***&application_name=a"
    )
    assert redact("sc://h:15002/;user_id=ann;token=abc") == "sc://h:15002/;user_id=ann;token=***"
    assert redact("duckdb:///srv/w.duckdb") == "duckdb:///srv/w.duckdb"
    assert redact("spark:local[*]") == "spark:local[*]"


def test_the_api_records_json_queries_caller_and_os_user(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    asked = {"select": ["customer_region", "net_revenue"], "where": ["customer_region = $r"]}
    with scope(caller="svc-report", file=path):
        table = project.query(asked, {"r": "EUROPE"})
        project.explain("SELECT order_count")
        with pytest.raises(SemanticError):
            project.compile("DROP TABLE orders")
    project.compile("SELECT order_count")  # outside the scope: not audited
    query, explain, dropped = records(path)
    assert table.num_rows == 1 and query["semantic"]["rows"] == 1
    assert query["semantic"]["query"]["form"] == "json"
    assert json.loads(query["semantic"]["query"]["text"]) == asked
    assert query["semantic"]["params"] == ["r"]
    assert (query["user"]["name"], query["semantic"]["surface"]) == ("svc-report", "api")
    assert query["semantic"]["command"] is None
    assert query["process"]["user"]["name"] == getpass.getuser()
    assert explain["event"]["action"] == "explain"
    assert dropped["event"]["outcome"] == "failure" and dropped["error"]["code"] == "SEM302"
    numbers = {k for k, v in leaves(query) if isinstance(v, int | float)}
    assert numbers == {"process.pid", "event.duration", "semantic.rows"}  # no value returned


def test_role_user_and_decisions_are_recorded(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with scope(file=path):
        project.query(
            "SELECT customer_region, order_count",
            role="country_manager",
            user={"name": "bea", "nation": "FRANCE"},
        )
    [record] = records(path)
    assert record["user"] == {"name": "bea", "roles": ["country_manager"]}
    assert record["semantic"]["user_attributes"] == ["nation"]  # "name" is the caller
    decisions = record["semantic"]["decisions"]
    assert decisions["role"] == "country_manager"
    assert decisions["filters"] == ["customer_nation = $user.nation"]
    assert {"customer", "orders", "lineitem"} <= set(decisions["restricted_entities"])
    assert decisions["attributes"] == ["nation"]
    assert "FRANCE" not in path.read_text()


def test_a_refused_term_is_recorded_with_its_code(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with scope(file=path), pytest.raises(SemanticError):
        project.compile("SELECT customer_name, order_count", role="analyst")
    [record] = records(path)
    assert record["event"]["outcome"] == "failure"
    assert record["error"]["code"] == "SEM331"
    assert record["user"]["roles"] == ["analyst"]
    assert "customer_name" in record["semantic"]["terms"]


def test_semantic_yml_turns_it_on_the_environment_and_the_option_redirect(
    tmp_path: Path,
) -> None:
    root = tiny(tmp_path)
    configured = root / "logs" / "audit.jsonl"
    assert run_cli("query", "SELECT shop, revenue", project=root).exit_code == 0
    [record] = records(configured)
    assert record["semantic"]["model"]["name"] == "tiny" and record["semantic"]["rows"] == 2
    assert stat.S_IMODE(configured.stat().st_mode) == 0o600
    for value in ("Lyon", "Nantes", "41017", "52391"):
        assert value not in configured.read_text()
    other, third = tmp_path / "env.jsonl", tmp_path / "option.jsonl"
    assert run_cli("compile", "SELECT revenue", project=root, env={ENV: str(other)})[0] == 0
    assert run_cli("compile", "SELECT revenue", project=root, env={ENV: ""})[0] == 0
    done = run_cli(
        "--audit-file",
        third,
        "compile",
        "SELECT shop, revenue",
        project=root,
        env={ENV: str(other)},
    )
    assert done.exit_code == 0
    assert [len(records(p)) for p in (configured, other, third)] == [2, 1, 1]
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    # a changed file changes the model's hash
    before = record["semantic"]["model"]["hash"]
    (root / "glossary" / "g.yml").write_text(TINY_GLOSSARY + "# edited\n")
    assert run_cli("compile", "SELECT shop, revenue", project=root).exit_code == 0
    assert records(configured)[-1]["semantic"]["model"]["hash"] != before


def test_it_is_off_when_not_configured(tmp_path: Path) -> None:
    root = tiny(tmp_path, audit=None)
    assert run_cli("query", "SELECT revenue", project=root).exit_code == 0
    assert not any(p.suffix == ".jsonl" for p in tmp_path.rglob("*"))


def test_no_work_without_its_record(tmp_path: Path) -> None:
    root = tiny(tmp_path, audit="missing/audit.jsonl")
    done = run_cli("query", "SELECT shop, revenue", project=root)
    assert done.exit_code == 1 and done.stdout == ""
    assert done.stderr.startswith("semantic.yml:5:9: SEM448 cannot open the audit file")
    done = run_cli("--audit-file", tmp_path, "compile", "SELECT shop, revenue", project=root)
    assert (done.exit_code, done.stdout) == (1, "")
    assert f"SEM114 the audit file {tmp_path} (--audit-file) is a folder" in done.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target, what in ((fifo, "a named pipe (FIFO)"), (Path(os.devnull), "a device")):
        with scope(file=target), pytest.raises(SemanticError) as raised:
            Project.load(root).compile("SELECT shop, revenue")
        assert raised.value.diagnostics[0].code == "SEM114"
        assert what in raised.value.diagnostics[0].message


#: run in a child: records past a file-size limit cannot be written (SEM449)
UNWRITABLE = """
import json, resource, signal, sys
from semantic.audit import scope
from semantic.errors import SemanticError
from semantic.project import Project
project = Project.load(sys.argv[1])
project.query("SELECT shop, revenue")  # the keys are measured and kept before the limit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (150, resource.RLIM_INFINITY))
found = []
for query in ("SELECT shop, revenue", "SELECT nothing"):
    try:
        with scope(file=sys.argv[2]):
            project.query(query)
        found.append("ran")
    except SemanticError as exc:
        found.append([d.code for d in exc.diagnostics])
print(json.dumps(found))
"""


def test_a_record_that_cannot_be_written_withholds_the_result(tmp_path: Path) -> None:
    root = tiny(tmp_path)
    path = tmp_path / "full.jsonl"
    path.write_text("x" * 99 + "\n")
    done = subprocess.run(
        [sys.executable, "-c", UNWRITABLE, str(root), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["SEM449"], ["SEM303", "SEM449"]]
    assert len(path.read_bytes()) == 150  # a part of the first record, and nothing more


def child_env() -> dict[str, str]:
    source = str(Path(semantic.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, str(ROOT)])}


def test_threads_write_whole_lines(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    padding = "x" * 20_000  # records far larger than a pipe's atomic size

    def work(n: int) -> None:
        with scope(caller=f"thread-{n}", file=path):
            for i in range(10):
                project.compile(f"SELECT order_count -- {n} {i} {padding}")
        with Sink.open(path, "test") as sink:
            for i in range(10):
                sink.write({"n": n, "i": i, "big": "y" * 200_000})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = records(path)
    assert len(found) == 160
    compiled = [r for r in found if "event" in r]
    assert sorted(r["user"]["name"] for r in compiled) == sorted(
        f"thread-{n}" for n in range(8) for _ in range(10)
    )
    assert all(r["event"]["outcome"] == "success" for r in compiled)


#: run in each child: 40 compiles of a long query, audited through SEMANTIC_AUDIT_FILE
APPENDING = """
import sys
from semantic.project import Project
project = Project.load(sys.argv[1])
for i in range(40):
    project.compile("SELECT order_count -- " + str(i) + " " + "z" * 50_000)
"""


def test_processes_write_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    env = {**child_env(), ENV: str(path)}
    children = [
        subprocess.Popen([sys.executable, "-c", APPENDING, str(ROOT)], env=env) for _ in range(3)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    found = records(path)
    assert len(found) == 120
    pids = {child.pid for child in children}
    assert {r["process"]["pid"] for r in found} == pids
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_help_never_loads_the_audit(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom semantic.cli import main\nsys.argv = ['semantic', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'semantic.audit' not in sys.modules, sys.argv\n"
    )
    for argv in (["--help"], ["query", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=child_env(),
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert "Usage" in done.stdout


def test_the_documented_line_has_the_fields_of_a_real_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    assert run_cli("--audit-file", path, "query", "SELECT customer_region, order_count")[0] == 0
    [real] = records(path)
    text = DOC.read_text()
    example = json.loads(re.search(r"```json\n(.*?)\n```", text, re.DOTALL).group(1))  # type: ignore[union-attr]
    assert [k for k, _ in leaves(example)] == [k for k, _ in leaves(real)]
    # each field is in the table of fields
    table = set(re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE))
    assert {k for k, _ in leaves(real)} <= table


def test_the_documented_jq_example_runs(tmp_path: Path) -> None:
    jq = "/usr/bin/jq"
    if not Path(jq).exists():
        pytest.skip("jq is not installed")
    path = tmp_path / "audit.jsonl"
    run_cli("--audit-file", path, "--caller", "ann", "compile", "SELECT no_such_term")
    run_cli("--audit-file", path, "compile", "SELECT order_count")
    line = next(
        line.removeprefix("$ ") for line in DOC.read_text().splitlines() if line.startswith("$ jq ")
    )
    argv = shlex.split(line)
    argv[-1] = str(path)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    [found] = [json.loads(x) for x in done.stdout.splitlines()]
    assert found["user"] == "ann" and found["code"] == "SEM303"


class StoppedProject(Project):
    """A compile stopped by Ctrl-C while it runs."""

    @audited("compile")
    def compile(self, query: Any, dialect: str | None = None, *, pretty: bool = True) -> str:
        raise KeyboardInterrupt


def test_an_interrupted_call_is_recorded_and_stays_an_interrupt(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    loaded = Project.load(ROOT)
    stopped = StoppedProject(loaded.root, loaded.config, loaded.model)
    with scope(file=path), pytest.raises(KeyboardInterrupt):
        stopped.compile("SELECT order_count")
    [record] = records(path)
    assert record["event"]["outcome"] == "failure"
    assert record["error"] == {
        "code": None,
        "message": "interrupted: KeyboardInterrupt",
        "type": "KeyboardInterrupt",
    }


def test_query_explain_writes_the_explain_then_the_query(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    assert run_cli("--audit-file", path, "query", "--explain", "SELECT order_count")[0] == 0
    assert [r["event"]["action"] for r in records(path)] == ["explain", "query"]
