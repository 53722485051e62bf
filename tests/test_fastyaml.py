"""The two YAML readers agree: libyaml's (`semantic.files.fastyaml`, used to load) gives the
very data and positions of ruamel's round-trip reader (`semantic.files.roundtrip`), or says
it cannot promise them (`Unusual`) and the file is read by ruamel.

Checked on every YAML file of the repository, on every broken project of
tests/test_broken_projects.py (the diagnostics of `Project.inspect`, with their
file:line:col, are the same both ways), and on generated texts full of what YAML 1.1 and
1.2 read differently (hypothesis)."""

from __future__ import annotations

import pickle
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from semantic.files import fastyaml, read
from semantic.files.fastyaml import MarkedMap, MarkedSeq, Unusual, compose
from semantic.files.roundtrip import round_trip_yaml
from tests import test_broken_projects as broken
from tests.budget import examples
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not fastyaml.AVAILABLE, reason="PyYAML without libyaml")


#: the types of scalars: ruamel's subclasses (ScalarInt, ScalarFloat, LiteralScalarString,
#: an anchored string...) count as their base
KINDS = (bool, int, float, str, date, type(None))


def differences(fast: Any, slow: Any, where: str = "") -> list[str]:
    """Where the fast tree differs from ruamel's: a value, a type (ruamel's subclasses of
    int, float and str count as those), the order of keys, or a position."""
    found: list[str] = []
    if isinstance(slow, CommentedMap):
        if not isinstance(fast, MarkedMap):
            return [f"{where}: a mapping in ruamel's tree, {type(fast).__name__} in libyaml's"]
        if (fast.line, fast.col) != (slow.lc.line, slow.lc.col):
            found.append(
                f"{where}: starts at {(fast.line, fast.col)} not {slow.lc.line, slow.lc.col}"
            )
        if list(fast) != list(slow):
            return [*found, f"{where}: keys {list(fast)} not {list(slow)}"]
        for key in slow:
            found += differences(next(k for k in fast if k == key), key, f"{where} key")
            if fast.marks[key] != (*slow.lc.key(key), *slow.lc.value(key)):
                found.append(f"{where}.{key}: marks {fast.marks[key]} not {slow.lc.data[key]}")
            found += differences(fast[key], slow[key], f"{where}.{key}")
        return found
    if isinstance(slow, CommentedSeq):
        if not isinstance(fast, MarkedSeq):
            return [f"{where}: a list in ruamel's tree, {type(fast).__name__} in libyaml's"]
        if (fast.line, fast.col) != (slow.lc.line, slow.lc.col):
            found.append(
                f"{where}: starts at {(fast.line, fast.col)} not {slow.lc.line, slow.lc.col}"
            )
        if len(fast) != len(slow):
            return [*found, f"{where}: {len(fast)} items, not {len(slow)}"]
        for i, item in enumerate(slow):
            if fast.marks[i] != tuple(slow.lc.item(i)):
                found.append(f"{where}[{i}]: at {fast.marks[i]} not {slow.lc.item(i)}")
            found += differences(fast[i], item, f"{where}[{i}]")
        return found
    kind = next((k for k in KINDS if isinstance(slow, k)), type(slow))
    if isinstance(slow, datetime):  # ruamel's TimeStamp, with how the zone was written
        kind = type(slow)
        if (fast.tzinfo, getattr(fast, "_yaml", None)) != (
            slow.tzinfo,
            getattr(slow, "_yaml", None),
        ):
            found.append(f"{where}: {fast!r} is not written as {slow!r}")
    if type(fast) is not kind or fast != slow:
        found.append(f"{where}: {fast!r} ({type(fast).__name__}) not {slow!r} ({kind.__name__})")
    return found


def compare(text: str) -> bool:
    """Assert that libyaml's reading of `text` is ruamel's, when it gives one; whether it
    did (False: `Unusual`, ruamel reads the text)."""
    try:
        fast = compose(text)
    except Unusual:
        return False
    slow = round_trip_yaml().load(text)  # must not fail where libyaml read the text
    assert differences(fast, slow) == [], text
    again = pickle.loads(pickle.dumps(fast))  # as the cache of trees keeps it
    assert differences(again, slow) == [], text
    return True


def repository_yaml() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.yml", "*.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    paths = [ROOT / line for line in listed.stdout.split()] if listed.returncode == 0 else []
    return paths or sorted(ROOT.glob("**/*.yml"))


def test_every_yaml_file_of_the_repository_reads_the_same() -> None:
    files = repository_yaml()
    assert len(files) >= 20
    fast = [f for f in files if compare(f.read_text(encoding="utf-8"))]
    # the fast path is the usual one: the project files of the repository all take it
    projects = [f for f in files if f.parent.name in ("models", "glossary")]
    assert set(projects) - set(fast) == set(), "read by ruamel"


@pytest.mark.parametrize("case", broken.CASES, ids=[c.name for c in broken.CASES])
def test_a_broken_project_gets_the_same_diagnostics_from_both_readers(
    case: broken.Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.name in ("billion laughs", "deep brackets", "wide alias bomb"):
        pytest.skip("slow with ruamel alone, and its text is read by ruamel either way")
    root = broken.build(tmp_path / "p", case)
    said = []
    for fast in (True, False):
        monkeypatch.setattr(read, "FAST", fast)
        monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / f"cache-{fast}"))
        said.append([d.render() for d in broken.bounded(lambda: broken.inspect(root))])
    assert said[0] == said[1]


def test_the_example_project_builds_the_same_model_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from semantic.project import Project

    models = []
    for fast in (True, False):
        monkeypatch.setattr(read, "FAST", fast)
        monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / f"cache-{fast}"))
        models.append(Project.load(ROOT).model)
    fast_model, slow_model = models
    assert fast_model.terms.keys() == slow_model.terms.keys()
    for tid, term in fast_model.terms.items():
        assert term == slow_model.terms[tid], tid
        assert term.span == slow_model.terms[tid].span, tid
    assert fast_model.entities == slow_model.entities


TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Yes",
    "NO",
    "On",
    "OFF",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    "",
    "0",
    "-0",
    "+5",
    "017",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1:20",
    "1:20.5",
    "1.5",
    "-2.25",
    "1e3",
    "1.0e-3",
    ".5",
    "5.",
    ".inf",
    "-.Inf",
    ".nan",
    "2024-01-31",
    "2024-1-31",
    "2024-13-45",
    "2024-01-31T10:00:00Z",
    "2024-01-31 10:00:00",
    "<<",
    "=",
    "-",
    "a b",
    "a: b",
    "a #b",
    "#x",
    "x#y",
    "'q'",
    '"d"',
    "%x",
    "!x",
    "&a",
    "@x",
    "`x",
    "a,b",
    "[x",
    "{x",
    "é",
    "ü ß",
    "\t",
    "12345678901234567890123456789012345",
    "-.5",
    "+.5",
    "+1.5",
    "0.",
    "00",
    "08",
    "1__2",
    "._5",
    "!= 2",
    "a != b",
    "1e",
    "e5",
]
NAMES = st.sampled_from(["a", "b", "key", "x_y", "é", "1", "true", "null", "yes", "<<", "2"])


def scalar_text(value: str, style: str) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    return value


scalars = st.tuples(
    st.one_of(st.sampled_from(TRICKY), st.text("abyn01-:. #é\t'\"[]{},&*!|>%@", max_size=6)),
    st.sampled_from(["", "", "'", '"']),
).map(lambda vs: scalar_text(*vs))


def block(node: Any, indent: int) -> list[str]:
    """Lines of `node` (a scalar text, a list or a dict of names) in block style."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)) and value:
                lines += [f"{pad}{key}:", *block(value, indent + 2)]
            else:
                lines.append(f"{pad}{key}: {flow(value)}".rstrip())
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)) and value:
                inner = block(value, indent + 2)
                lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
            else:
                lines.append(f"{pad}- {flow(value)}".rstrip())
    return lines


def flow(node: Any) -> str:
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(flow(v) for v in node) + "]"
    return str(node)


trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)


#: what may be put anywhere in a generated text
MUTATIONS = [
    " &a",
    " *a",
    ":",
    "\t",
    "#",
    " ",
    "\n ",
    "'",
    '"',
    "|",
    ">",
    "- ",
    "? ",
    "{",
    "[",
    "]",
    ",",
    "%",
    "!",
    "\n",
    "\r",
    "~",
    "<<: *a\n",
    "\ufeff",
    "\x85",
    "\u2028",
    "---",
]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A YAML text in block style, sometimes with comments, anchors and aliases, blank
    lines or a character put anywhere."""
    root = draw(st.dictionaries(NAMES, trees, min_size=1, max_size=5))
    lines = block(root, 0)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        extra = draw(st.sampled_from(["# a comment", "", "   ", "---", "..."]))
        lines.insert(at, extra)
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from([" &a", " *a", ":", "\t", "#", " ", "\n "]))
            + text[at:]
        )
    return text


@settings(
    max_examples=examples(full=2000, fast=300, variable="SEMANTIC_FASTYAML_EXAMPLES"),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(documents())
@example("a: &x {b: 1}\nc: *x\n")
@example("a:\nb: 1\n")
@example("a: |\n  one\n   two\n\nb: >-\n  folded\n  text\n")
@example('a: \'x\'\n"b": "y"\n? c\n: d\n')
@example("- [a, {b: c}]\n- - d\n  - e\n")
def test_generated_texts_read_the_same(text: str) -> None:
    try:
        round_trip_yaml().load(text)
    except Exception:  # ruamel refuses the text: libyaml must not read it
        with pytest.raises(Unusual):
            compose(text)
        return
    compare(text)


def test_the_readers_differ_where_expected() -> None:
    """What falls back to ruamel, and what the fast path reads as ruamel's YAML 1.2 does."""
    for text in (
        "a: 0o17",
        "a: 1_000",
        "a: .inf",
        "<<: {a: 1}",
        "a: !!str 5",
        "%YAML 1.1\n---\na: yes",
    ):
        with pytest.raises(Unusual):
            compose(text)
    for text in ("a: 2024-02-30 10:00:00", "a: 2024-01-20 10:00:00 +02", "a: 2024-1-2 1:2:3"):
        with pytest.raises(Unusual):  # not a date, or a timestamp written unusually
            compose(text)
    # the timestamps an import writes (`modified` from dct:modified) stay on the fast path
    for text in (
        "a: 2024-01-20 10:00:00+00:00",
        "a: 2024-01-20T10:00:00Z",
        "a: 2024-01-20 10:00:00",
        "a: 2024-01-20t10:00:00.25-05:30",
    ):
        assert compare(text), text
    assert compare("a: yes\nb: on\nc: no\n")
    assert compose("a: yes\nb: on\nc: no\n") == {"a": "yes", "b": "on", "c": "no"}
