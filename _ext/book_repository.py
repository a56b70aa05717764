"""Where the book's repository is: one answer for the site, the Colab cell and the README.

The repository URL is decided at build time, in this order:

1. the environment variable ``BOOK_REPOSITORY_URL`` (set but empty: no repository);
2. ``git remote get-url origin``, when it is a web or SSH URL (a local path, as in a
   clone of a clone, is not a repository readers can open);
3. otherwise none.

``git@github.com:owner/repo.git`` and ``https://user:token@github.com/owner/repo.git``
both become ``https://github.com/owner/repo``: credentials never reach a page.
The branch is ``repository.branch`` in ``_config.yml`` (``main``).

As a Sphinx extension this module puts the URL into the theme's options, so the
repository button and the Binder and Colab launch buttons point at it; with no
repository they are left out rather than pointing at a stand-in. (Jupyter Book 1
would otherwise fill in its own default, the jupyter-book repository.) Colab opens
only GitHub repositories, so its button needs a ``github.com`` URL.

Why no package: Jupyter Book 1 reads ``repository.url`` from ``_config.yml`` only, and no
maintained extension takes it from the environment or the git remote at build time.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_VAR = "BOOK_REPOSITORY_URL"
DEFAULT_BRANCH = "main"
ROOT = Path(__file__).resolve().parents[1]

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+\.[a-z]{2,}):(?P<path>[^/].*)$", re.IGNORECASE)


def normalize(url: str) -> str | None:
    """The ``https://host/owner/repo`` form of a git remote URL, or None if it is not one."""
    url = url.strip()
    scp = _SCP.match(url)
    if scp and "://" not in url:
        host, path = scp["host"], scp["path"]
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
        if parts.port and parts.scheme in ("https", "http"):
            host = f"{host}:{parts.port}"
    path = path.strip("/").removesuffix(".git").strip("/")
    if len(path.split("/")) < 2 or not all(path.split("/")):
        return None
    return f"https://{host.lower()}/{path}"


def repository_url(root: Path = ROOT) -> str | None:
    """The repository URL readers are sent to (see the module docstring), or None."""
    value = os.environ.get(ENV_VAR)
    if value is not None:
        if not value.strip():
            return None
        url = normalize(value)
        if url is None:
            raise ValueError(
                f"{ENV_VAR}={value!r} is not a repository URL such as "
                "https://github.com/OWNER/REPO"
            )
        return url
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return normalize(out.stdout) if out.returncode == 0 else None


def repository_branch(root: Path = ROOT) -> str:
    """``repository.branch`` from ``_config.yml`` (``main`` when absent)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return str((config.get("repository") or {}).get("branch") or DEFAULT_BRANCH)


def is_github(url: str | None) -> bool:
    return bool(url) and urlsplit(url).hostname == "github.com"


def _configure(app: Any, config: Any) -> None:
    url = repository_url(Path(app.srcdir))
    options = dict(config.html_theme_options or {})
    launch = dict(options.get("launch_buttons") or {})
    if url is None:
        for key in ("repository_url", "path_to_docs"):
            options.pop(key, None)
        for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            options[key] = False
        launch = {}
    else:
        options["repository_url"] = url
        options["use_repository_button"] = True
        if not is_github(url):  # Colab (and Deepnote) open GitHub repositories only
            launch.pop("colab_url", None)
            launch.pop("deepnote_url", None)
    options["launch_buttons"] = launch
    config.html_theme_options = options


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
