"""docs/serve.md tells the truth: each ```http request it shows is sent to a real server on
the TPC-H project, and the answer shown under it (```json: the keys shown, with these
values; ```csv: the text) is what the server answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from semantic.serve.http import make_app
from semantic.serve.service import Service
from tests.serving import TOKENS, copy_project, running

DOC = Path(__file__).resolve().parents[1] / "docs" / "serve.md"
_FENCE = re.compile(r"^```(\w*)\s*$")


def examples() -> list[tuple[int, str, str, str]]:
    """Each (line, request, answer's tag, answer) of the document."""
    blocks: list[tuple[int, str, str]] = []
    lines = DOC.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if opened and opened.group(1):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append((i + 1, opened.group(1), "\n".join(lines[i + 1 : end])))
            i = end
        i += 1
    found = []
    for (line, tag, text), (_, next_tag, answer) in zip(blocks, blocks[1:], strict=False):
        if tag == "http":
            assert next_tag in ("json", "csv"), f"docs/serve.md:{line}: no answer shown"
            found.append((line, text, next_tag, answer))
    return found


def contains(actual: Any, shown: Any, where: str = "") -> None:
    """Every key `shown` is in `actual` with the value shown (lists: item by item)."""
    if isinstance(shown, dict):
        assert isinstance(actual, dict), where
        for key, value in shown.items():
            assert key in actual, f"{where}.{key} missing"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), (where, actual)
        for i, (a, s) in enumerate(zip(actual, shown, strict=True)):
            contains(a, s, f"{where}[{i}]")
    else:
        assert actual == shown, (where, actual, shown)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = copy_project(tmp_path_factory.mktemp("docs"), "  anonymous_role: analyst\n")
    service = Service.open(root)
    with running(make_app(service)) as url:
        yield url
    service.close()


@pytest.mark.parametrize(("line", "request_text", "tag", "answer"), examples())
def test_documented_request_answers_what_is_shown(
    server: str, line: int, request_text: str, tag: str, answer: str
) -> None:
    head, _, body = request_text.partition("\n\n")
    first, *header_lines = head.splitlines()
    method, target = first.split(" ", 1)
    path, _, query = target.partition("?")
    params = [tuple(p.split("=", 1)) for p in query.split("&")] if query else []
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip().replace("$ANN", TOKENS["ann"][0])
    got = httpx.request(
        method,
        server + path,
        params=params,
        headers=headers,
        json=json.loads(body) if body.strip() else None,
        timeout=60,
    )
    if tag == "csv":
        assert got.text.replace("\r\n", "\n").strip() == answer.strip(), f"serve.md:{line}"
    else:
        shown = json.loads(answer, parse_float=Decimal)
        contains(json.loads(got.text, parse_float=Decimal), shown, f"serve.md:{line}")


def test_every_endpoint_has_an_example() -> None:
    shown = {
        " ".join(text.split("\n")[0].split("?")[0].split()[:2]) for _, text, _, _ in examples()
    }
    for endpoint in (
        "GET /v1/health",
        "POST /v1/compile",
        "POST /v1/query",
        "POST /v1/explain",
        "GET /v1/terms",
        "GET /v1/search",
        "GET /v1/rdf",
        "GET /v1/status",
        "GET /v1/terms/customer_region/lineage",
    ):
        assert endpoint in shown, endpoint
    assert any(s.startswith("GET /v1/terms/") and "lineage" not in s for s in shown)
