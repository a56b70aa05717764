"""Binder's environment, built from the repository's ``binder/`` files alone, runs every chapter.

As repo2docker does, a fresh virtual environment (the Python of ``binder/runtime.txt``)
gets ``pip install -r binder/requirements.txt`` run from the root of a copy of the
checkout (and ``binder/postBuild``, if there is one); nothing of the book's own ``.venv``
is used. Then every chapter notebook is executed by a kernel of that environment, in
its own folder, as Binder opens it. ``make test-binder`` runs this (a few minutes: pip
install, then the notebooks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "hw4-binder-test"


def _chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    # The notebooks (the back matter's Markdown pages have no code).
    return [f"{e['file']}.ipynb" for part in toc["parts"] for e in part["chapters"]
            if (ROOT / f"{e['file']}.ipynb").is_file()]


def _checkout_files() -> list[str]:
    """What a clone would hold: tracked files and new ones that are not ignored."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def _run(cmd: list[str], **kwargs: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return str(done.stdout)


@pytest.fixture(scope="module")
def binder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    work = tmp_path_factory.mktemp("binder")
    repo, venv, kernels = work / "repo", work / "venv", work / "kernels"
    for rel in _checkout_files():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, repo / rel)
    runtime = (repo / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", (
        f"binder/runtime.txt asks for {runtime}; run this test with that Python"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "venv", str(venv)], env=env)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-r", "binder/requirements.txt"], cwd=repo, env=env)
    post_build = repo / "binder" / "postBuild"
    if post_build.is_file():
        _run(["bash", str(post_build)], cwd=repo,
             env={**env, "PATH": f"{venv / 'bin'}:{env['PATH']}"})
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(kernels), "--name", KERNEL],
         env=env)
    yield {"repo": repo, "python": python, "kernels": kernels / "share" / "jupyter"}


def test_environment_is_the_pinned_one(binder: dict[str, Path]) -> None:
    lines = (binder["repo"] / "binder" / "requirements.txt").read_text().splitlines()
    pins = {ln.lower() for ln in lines if "==" in ln and not ln.startswith("#")}
    frozen = _run([str(binder["python"]), "-m", "pip", "freeze", "--exclude-editable"])
    installed = {
        ln.lower().replace("_", "-") for ln in frozen.splitlines()
        if ln and not ln.lower().startswith("hw4lib")
    }
    assert installed == pins, (
        f"installed but not pinned: {sorted(installed - pins)}; "
        f"pinned but not installed: {sorted(pins - installed)}"
    )


def test_hw4lib_comes_from_the_environment(binder: dict[str, Path], tmp_path: Path) -> None:
    where = _run([str(binder["python"]), "-c", "import hw4lib; print(hw4lib.__file__)"],
                 cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert Path(where.strip()).is_relative_to(binder["python"].parents[1]), where


@pytest.mark.parametrize("chapter", _chapters())
def test_notebook_runs(binder: dict[str, Path], chapter: str,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(binder["kernels"]))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    path = binder["repo"] / chapter
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, json.dumps(errors)[:2000]
