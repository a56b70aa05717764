"""Serve MathJax 3 from the built site itself, so pages typeset with no network.

MathJax comes from the npm package pinned in ``package.json`` /
``package-lock.json`` (``npm ci`` puts it in ``node_modules/mathjax``); nothing
minified is committed. At build time this extension

* points Sphinx's ``mathjax_path`` at ``_static/mathjax/tex-chtml-full.js``
  (Sphinx then adds exactly one ``<script>`` tag, on pages that contain maths);
* copies that single combined file (all TeX extensions, no lazy loading from a
  CDN) and its CHTML web fonts into ``_build/html/_static/mathjax/``;
* turns on **lazy typesetting** (MathJax 3's ``ui/lazy`` component, copied
  beside it and loaded by MathJax's own loader from there): a formula is
  typeset when it comes within ``lazyMargin`` of the window, not all 500 of a
  chapter in one task at load (chapter 1: a 0.9 s task, 2.6 s at a phone's
  speed; README, "Benchmarks"). Printing typesets everything first (MathJax's
  own ``beforeprint`` handler, and ``_ext/static/book_furniture.js``).
  Equation numbers and ``{eq}`` links are Sphinx's HTML, not MathJax's, so
  they do not depend on what has been typeset. ``mathjax_lazy = False`` in
  ``sphinx.config`` turns it off.

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
LAZY = Path("ui") / "lazy.js"
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
    if config.mathjax_lazy:
        mj = dict(config.mathjax3_config or {})
        loader = dict(mj.get("loader") or {})
        loader["load"] = [*loader.get("load", []), "ui/lazy"]
        mj["loader"] = loader
        options = dict(mj.get("options") or {})
        options.setdefault("lazyMargin", "200px")  # typeset just before it shows
        # Search only the maths elements Sphinx marks (class "math", "output_area"),
        # not every text node of the page and its sidebars: 60 ms less at load.
        options.setdefault(
            "ignoreHtmlClass", "tex2jax_ignore|mathjax_ignore|bd-container"
        )
        mj["options"] = options
        config.mathjax3_config = mj


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_dir(app)
    dest = Path(app.outdir) / "_static" / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / SCRIPT, dest / SCRIPT)
    if app.config.mathjax_lazy:
        (dest / LAZY).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / LAZY, dest / LAZY)
    shutil.copytree(src / FONTS, dest / FONTS, dirs_exist_ok=True)


def _lazy_metrics_script(app: Sphinx) -> None:
    """``_ext/static/mathjax_lazy_metrics.js``, after the inline configuration (500)."""
    if app.builder.format == "html" and app.config.mathjax_lazy:
        static = str(Path(__file__).resolve().parent / "static")
        if static not in app.config.html_static_path:
            app.config.html_static_path.append(static)
        app.add_js_file("mathjax_lazy_metrics.js", priority=501)


def _check_installed(app: Sphinx) -> None:
    if app.builder.format == "html":
        _mathjax_dir(app)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("mathjax_lazy", True, "html", [bool])
    app.connect("builder-inited", _lazy_metrics_script)
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _check_installed)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
