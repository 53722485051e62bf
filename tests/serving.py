"""Helpers of the server's tests: a copy of the TPC-H project with a tokens file, and a real
uvicorn server on 127.0.0.1 at a free port, in a thread of the test process."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from semantic.project import Project
from semantic.serve.config import hash_token
from tests.conftest import ROOT

#: each test caller's token, role and attributes
TOKENS: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "owner": ("tok-owner-0123456789abcdef", None, {}),
    "ann": ("tok-emea-0123456789abcdef", "emea_analyst", {}),
    "bob": ("tok-analyst-0123456789abcdef", "analyst", {}),
    "carla": ("tok-france-0123456789abcdef", "country_manager", {"nation": "FRANCE"}),
}


def copy_project(target: Path, serve: str = "", *, tokens: bool = True) -> Path:
    """The TPC-H project copied into `target` (its data read where it is), with a tokens
    file for `TOKENS` and the `serve:` block `serve` (YAML, indented two spaces)."""
    Project.load(ROOT).prepare_data()
    for folder in ("models", "glossary"):
        shutil.copytree(ROOT / folder, target / folder)
    shutil.copy(ROOT / "policies.yml", target / "policies.yml")
    config = (ROOT / "semantic.yml").read_text()
    config = config[: config.index("# `semantic serve`")]
    data = (ROOT / "data" / "tpch-sf0.01").resolve()
    config = config.replace("dir: data/tpch-sf{scale}", f"dir: {data}")
    block = "serve:\n  tokens: tokens.yml\n" if tokens else "serve:\n"
    (target / "semantic.yml").write_text(config + block + serve)
    lines = ["tokens:"]
    for name, (token, role, user) in TOKENS.items():
        lines.append(f"  {name}:")
        lines.append(f"    sha256: {hash_token(token)}")
        if role:
            lines.append(f"    role: {role}")
        if user:
            lines.append("    user: {" + ", ".join(f"{k}: {v}" for k, v in user.items()) + "}")
    (target / "tokens.yml").write_text("\n".join(lines) + "\n")
    return target


def auth(name: str) -> dict[str, str]:
    """The Authorization header of test caller `name`."""
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 at a free port, in a thread; its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    """Wait until `condition()` is true (an AssertionError after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
