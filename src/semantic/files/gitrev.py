"""A project as it was at a git revision, read from git into a temporary folder (the
working tree is never checked out or touched).

>>> from semantic.errors import SemanticError
>>> import tempfile
>>> try:
...     project_at_revision(Path(tempfile.mkdtemp()), "HEAD", Path(tempfile.mkdtemp()))
... except SemanticError as exc:
...     print(exc.code)
SEM420
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from semantic.errors import Span, error
from semantic.files.root import CONFIG_FILE


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, check=False)
    except OSError as exc:  # git is not installed
        raise error("SEM420", f"cannot run git: {exc}", Span(str(folder)), "install git") from None


def project_at_revision(root: Path, revision: str, into: Path) -> Path:
    """Extract the project folder `root` as it was at `revision` into the folder `into`;
    return where its `semantic.yml` now is."""
    here = Span(str(root))  # where a git failure is reported
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise error(
            "SEM420",
            f"{root} is not in a git repository",
            here,
            "run `semantic diff` in a clone of the repository that holds the project",
        )
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if commit.returncode != 0:
        raise error(
            "SEM421",
            f"unknown git revision '{revision}'",
            here,
            "give a branch, tag or commit that exists here; in CI fetch it first "
            "(git fetch origin main, or actions/checkout with fetch-depth: 0)",
        )
    sha = commit.stdout.decode().strip()
    toplevel = Path(top.stdout.decode().strip()).resolve()
    prefix = root.resolve().relative_to(toplevel)
    # paths given to git archive are relative to the folder it runs in
    archive = _git(toplevel, "archive", "--format=tar", sha, "--", prefix.as_posix() or ".")
    if archive.returncode != 0 or not archive.stdout:
        raise _missing(revision, prefix)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    folder = into / prefix
    if not (folder / CONFIG_FILE).is_file():
        raise _missing(revision, prefix)
    return folder


def _missing(revision: str, prefix: Path) -> Exception:
    where = "the repository root" if prefix == Path(".") else f"{prefix.as_posix()}/"
    return error(
        "SEM422",
        f"there is no project ({CONFIG_FILE}) in {where} at revision '{revision}'",
        Span(f"{revision}:{(prefix / CONFIG_FILE).as_posix()}"),
        "compare with a revision where the project exists",
    )
