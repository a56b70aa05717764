"""Where the repository URL comes from (``_ext/book_repository.py``) and what the site does with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import book_repository  # noqa: E402
from book_repository import ENV_VAR, normalize, repository_url  # noqa: E402


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://github.com/owner/repo", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo/", "https://github.com/owner/repo"),
        ("git@github.com:owner/repo.git", "https://github.com/owner/repo"),
        ("ssh://git@github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://user:secret-token@github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://GitHub.com/Owner/Repo\n", "https://github.com/Owner/Repo"),
        ("https://gitlab.com/group/sub/repo.git", "https://gitlab.com/group/sub/repo"),
        ("/work/main", None),
        ("../main", None),
        ("file:///srv/git/repo.git", None),
        ("https://github.com/owner", None),
        ("", None),
    ],
)
def test_normalize(remote: str, expected: str | None) -> None:
    assert normalize(remote) == expected


def _git_repo(path: Path, origin: str | None) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if origin is not None:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", origin], check=True)
    return path


def test_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _git_repo(tmp_path, "git@github.com:from-git/repo.git")
    monkeypatch.setenv(ENV_VAR, "https://github.com/from-env/repo.git")
    assert repository_url(repo) == "https://github.com/from-env/repo"


def test_empty_environment_variable_means_none(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _git_repo(tmp_path, "git@github.com:from-git/repo.git")
    monkeypatch.setenv(ENV_VAR, "")
    assert repository_url(repo) is None


def test_bad_environment_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "not a url")
    with pytest.raises(ValueError, match=ENV_VAR):
        repository_url()


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("git@github.com:from-git/repo.git", "https://github.com/from-git/repo"),
        ("/some/local/clone", None),  # a clone of a clone (as CI's): no public repository
        (None, None),
    ],
)
def test_git_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    origin: str | None, expected: str | None) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert repository_url(_git_repo(tmp_path, origin)) == expected


def test_not_a_git_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert repository_url(tmp_path) is None


def _theme_options(monkeypatch: pytest.MonkeyPatch, url: str) -> dict[str, object]:
    """The theme options _config.yml gives, after the extension has seen ``url``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    options = {"launch_buttons": dict(config["launch_buttons"]),
               "repository_branch": config["repository"]["branch"],
               "use_repository_button": config["html"]["use_repository_button"],
               "repository_url": "https://github.com/executablebooks/jupyter-book"}
    sphinx_config = SimpleNamespace(html_theme_options=options)
    monkeypatch.setenv(ENV_VAR, url)
    book_repository._configure(SimpleNamespace(srcdir=str(ROOT)), sphinx_config)
    return sphinx_config.html_theme_options


def test_buttons_with_a_github_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    options = _theme_options(monkeypatch, "git@github.com:owner/repo.git")
    assert options["repository_url"] == "https://github.com/owner/repo"
    assert options["use_repository_button"] is True
    launch = options["launch_buttons"]
    assert isinstance(launch, dict) and launch["binderhub_url"] and launch["colab_url"]


def test_no_colab_button_off_github(monkeypatch: pytest.MonkeyPatch) -> None:
    options = _theme_options(monkeypatch, "https://gitlab.com/group/repo")
    launch = options["launch_buttons"]
    assert isinstance(launch, dict) and launch["binderhub_url"] and "colab_url" not in launch


def test_no_buttons_without_a_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # Jupyter Book 1 fills in its own repository when _config.yml names none: removed.
    options = _theme_options(monkeypatch, "")
    assert "repository_url" not in options
    assert options["use_repository_button"] is False
    assert options["launch_buttons"] == {}


def test_config_names_no_stand_in() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "url" not in config["repository"], "the URL comes from BOOK_REPOSITORY_URL or git"
