"""Serve MathJax 3 from the built site itself, so pages typeset with no network.

MathJax comes from the npm package pinned in ``package.json`` /
``package-lock.json`` (``npm ci`` puts it in ``node_modules/mathjax``); nothing
minified is committed. At build time this extension

* points Sphinx's ``mathjax_path`` at ``_static/mathjax/startup.js``, MathJax's own
  loader, and lists in the configuration the components it loads from beside it
  (``COMPONENTS``): the core, TeX input (``input/tex``: the ``base``, ``ams``,
  ``newcommand``, ``configmacros``, ``require``, ``autoload`` and ``noundefined``
  packages), CHTML output and its TeX font, and the hidden MathML that screen
  readers read (``a11y/assistive-mml``). That is everything the book's formulas use
  (``tests/browser/test_tex_inventory.py`` typesets one formula for every macro and
  environment of the built pages); 0.75 MB where ``tex-chtml-full.js`` was 1.33 MB.
  Left out are the other TeX extensions of ``-full`` and MathJax's contextual menu
  (``ui/menu``, 0.43 MB: "Show Math As", zoom, a11y settings); add ``"ui/menu"`` to
  ``COMPONENTS`` to bring it back. A TeX extension the book comes to need is named in
  ``_config.yml`` (``mathjax3_config.loader.load: ["[tex]/boldsymbol"]``): it is
  copied, loaded up front and switched on (``tex.packages``). Nothing is fetched on
  demand (``autoload``): printing typesets every formula synchronously
  (``_ext/static/book_furniture.js``), which a fetch would break, and the browser test
  fails on a request for an extension that was not copied.
* Sphinx writes the ``<script>`` tags only on pages that contain maths (its
  ``html_assets_policy`` is ``per_page``); so does ``mathjax_lazy.js`` below: a page
  with no maths (References, the build status, search) loads no MathJax at all.
* copies those files and the CHTML web fonts into ``_build/html/_static/mathjax/``;
* turns on **lazy typesetting** (MathJax 3's ``ui/lazy`` component): a formula is
  typeset when it comes within ``lazyMargin`` of the window, not all 500 of a
  chapter in one task at load (chapter 1: a 0.9 s task, 2.6 s at a phone's
  speed). ``_ext/static/mathjax_lazy.js`` typesets the first screen in MathJax's
  startup pass rather than in a later idle callback, and skips measuring unseen
  formulas. Printing typesets everything first (MathJax's own ``beforeprint``
  handler, and ``_ext/static/book_furniture.js``). Equation numbers and ``{eq}``
  links are Sphinx's HTML, not MathJax's, so they do not depend on what has been
  typeset. ``mathjax_lazy = False`` in ``sphinx.config`` turns it off.

The files are copied into the *output* directory, not into the source
``_static`` folder: Jupyter Book 1 adds a ``<script>`` tag for every ``.js``
file under the source ``_static``, which would load MathJax a second time.
Page weight and first-screen typesetting: ``benchmarks/bench_pages.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

SCRIPT = "startup.js"
ASSISTIVE = "a11y/assistive-mml"
COMPONENTS = ["core", "input/tex", "output/chtml", ASSISTIVE]
LAZY = "ui/lazy"
# Loaded by output/chtml itself (a dependency in MathJax's loader).
DEPENDENCIES = ["output/chtml/fonts/tex"]
FONTS = Path("output") / "chtml" / "fonts" / "woff-v2"
TEX_EXTENSION = "[tex]/"
SHIM = "mathjax_lazy.js"


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


def _component_file(name: str) -> Path:
    """The file of a component under ``es5/``: ``input/tex`` -> ``input/tex.js``,
    ``[tex]/ams`` -> ``input/tex/extensions/ams.js``."""
    if name.startswith(TEX_EXTENSION):
        return Path("input") / "tex" / "extensions" / f"{name.removeprefix(TEX_EXTENSION)}.js"
    return Path(f"{name}.js")


def _configure(app: Sphinx, config: Any) -> None:
    config.mathjax_path = f"mathjax/{SCRIPT}"
    mj = dict(config.mathjax3_config or {})
    loader = dict(mj.get("loader") or {})
    extra = [c for c in loader.get("load", []) if c not in COMPONENTS and c != LAZY]
    loader["load"] = [*COMPONENTS, *extra, *([LAZY] if config.mathjax_lazy else [])]
    if config.mathjax_lazy:
        # ui/lazy's document class drops the "expandable" mark of renderActions that
        # mathjax_lazy.js adds an action to ('Invalid option "lazySkipMetrics"', and the
        # action is ignored) unless assistive-mml's class wraps it: it must be loaded
        # after ui/lazy, as in MathJax's combined files. The loader fetches in parallel.
        dependencies = dict(loader.get("dependencies") or {})
        dependencies.setdefault(ASSISTIVE, [LAZY])
        loader["dependencies"] = dependencies
    mj["loader"] = loader
    # A TeX extension named in loader.load is also switched on in the TeX input.
    added = [c.removeprefix(TEX_EXTENSION) for c in extra if c.startswith(TEX_EXTENSION)]
    if added:
        tex = dict(mj.get("tex") or {})
        packages = tex.get("packages", {})
        if isinstance(packages, list):
            tex["packages"] = [*packages, *(p for p in added if p not in packages)]
        else:
            packages = dict(packages)
            packages["[+]"] = [*packages.get("[+]", []), *added]
            tex["packages"] = packages
        mj["tex"] = tex
    if config.mathjax_lazy:
        options = dict(mj.get("options") or {})
        options.setdefault("lazyMargin", "200px")  # typeset just before it shows
        # Search only the maths elements Sphinx marks (class "math", "output_area"),
        # not every text node of the page and its sidebars: 60 ms less at load.
        options.setdefault(
            "ignoreHtmlClass", "tex2jax_ignore|mathjax_ignore|bd-container"
        )
        mj["options"] = options
    config.mathjax3_config = mj


def _files(config: Any) -> list[Path]:
    names = [*config.mathjax3_config["loader"]["load"], *DEPENDENCIES]
    return [Path(SCRIPT), *(_component_file(name) for name in names)]


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_dir(app)
    dest = Path(app.outdir) / "_static" / "mathjax"
    shutil.rmtree(dest, ignore_errors=True)  # no file of an earlier choice left behind
    for path in _files(app.config):
        if not (src / path).is_file():
            raise ExtensionError(f"MathJax component {path} not found in {src}")
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / path, dest / path)
    shutil.copytree(src / FONTS, dest / FONTS, dirs_exist_ok=True)


def _static_path(app: Sphinx) -> None:
    """``_ext/static`` (``mathjax_lazy.js``) among the static paths."""
    if app.builder.format == "html" and app.config.mathjax_lazy:
        static = str(Path(__file__).resolve().parent / "static")
        if static not in app.config.html_static_path:
            app.config.html_static_path.append(static)


def _lazy_script(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """``mathjax_lazy.js`` after the inline configuration (priority 500), on the pages
    where Sphinx's mathjax extension (priority 500 of this event) put MathJax."""
    if app.builder.format != "html" or not app.config.mathjax_lazy:
        return
    script = f"_static/{app.config.mathjax_path}"  # as the builder keeps it
    if any(js.filename == script for js in context.get("script_files", [])):
        app.builder.add_js_file(SHIM, priority=501)  # type: ignore[attr-defined]


def _check_installed(app: Sphinx) -> None:
    if app.builder.format == "html":
        _mathjax_dir(app)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("mathjax_lazy", True, "html", [bool])
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _static_path)
    app.connect("builder-inited", _check_installed)
    app.connect("html-page-context", _lazy_script, priority=600)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
