"""Serve MathJax 3 from the built site itself, so pages typeset with no network.

MathJax comes from the npm package pinned in ``package.json`` /
``package-lock.json`` (``npm ci`` puts it in ``node_modules/mathjax``); nothing
minified is committed. At build time this extension

* points Sphinx's ``mathjax_path`` at ``_static/mathjax/tex-chtml-full.js``
  (Sphinx then adds exactly one ``<script>`` tag, on pages that contain maths);
* copies that single combined file (all TeX extensions, no lazy loading from a
  CDN) and its CHTML web fonts into ``_build/html/_static/mathjax/``.

The files are copied into the *output* directory, not into the source
``_static`` folder: Jupyter Book 1 adds a ``<script>`` tag for every ``.js``
file under the source ``_static``, which would load MathJax a second time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

SCRIPT = "tex-chtml-full.js"
FONTS = Path("output") / "chtml" / "fonts" / "woff-v2"


def _mathjax_dir(app: Sphinx) -> Path:
    root = Path(app.srcdir)
    for candidate in (root, *root.parents):
        es5 = candidate / "node_modules" / "mathjax" / "es5"
        if (es5 / SCRIPT).is_file():
            return es5
    raise ExtensionError(
        "MathJax 3 is not installed: run `npm ci` in the book's root "
        "(`make book` does it) so that node_modules/mathjax/es5 exists."
    )


def _configure(app: Sphinx, config: Any) -> None:
    config.mathjax_path = f"mathjax/{SCRIPT}"


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_dir(app)
    dest = Path(app.outdir) / "_static" / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / SCRIPT, dest / SCRIPT)
    shutil.copytree(src / FONTS, dest / FONTS, dirs_exist_ok=True)


def _check_installed(app: Sphinx) -> None:
    if app.builder.format == "html":
        _mathjax_dir(app)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _check_installed)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
