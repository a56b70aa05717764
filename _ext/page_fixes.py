"""Fix four defects of Jupyter Book 1's default pages at their source.

1. **Duplicated inline scripts.** ``sphinx-thebe`` and ``sphinx-togglebutton``
   register inline ``<script>`` bodies with ``filename=None`` after the HTML
   builder has initialised its assets; Sphinx then keeps both the
   ``None``-named copy and the ``''``-named copy it re-reads from its
   registry, so each body is emitted twice. The second
   ``const THEBE_JS_URL = ...`` is a page error ("Identifier 'THEBE_JS_URL'
   has already been declared"). We drop exact duplicates, comparing filenames
   with ``None`` and ``''`` identified.
2. **Empty theme mode.** ``pydata-sphinx-theme``'s ``layout.html`` writes
   ``data-default-mode="{{ default_mode }}"``, but no theme option or context
   variable of that name exists any more (pydata-sphinx-theme 0.17 with
   sphinx-book-theme 1.3), so the attribute is empty and the theme's script
   logs "Got invalid theme mode" on every page. We put ``default_mode`` in the
   page context: ``auto``, so that the site follows the reader's system setting
   (``prefers-color-scheme``) until the reader picks a mode with the theme's
   switch, which the theme remembers (``localStorage``) and prefers.
3. **A second search box in a header bar.** ``sphinx-book-theme`` 1.3 has no
   top navbar (its ``theme.conf`` empties ``navbar_persistent``), but
   ``pydata-sphinx-theme`` 0.17 fills ``navbar_persistent`` with its search
   button whenever the *user's* ``html_theme_options`` lack the key, so every
   page grew a header bar holding a duplicate of the sidebar's search field.
   We set the option explicitly to the book theme's own default (empty).
4. **A stale domain index.** With ``html_domain_indices`` off (``_config.yml``),
   Sphinx stops writing sphinx-proof's "Proof Index" (``prf-prf.html``) but leaves
   the copy an earlier build wrote in ``_build/html``; it is removed.

Why no package: these are defects of the sphinx-thebe, sphinx-togglebutton,
pydata-sphinx-theme and Sphinx releases pinned in requirements.lock; each item goes when a
pinned release fixes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _no_header_search(app: Sphinx, config: Any) -> None:
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


def _fix_page(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    context.setdefault("default_mode", "auto")
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for js in context.get("script_files", []):
        key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def _remove_stale_domain_indices(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or app.config.html_domain_indices:
        return
    for domain in app.env.domains.values():
        for index in domain.indices:
            stale = Path(app.outdir) / f"{domain.name}-{index.name}{app.builder.out_suffix}"
            stale.unlink(missing_ok=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _no_header_search)
    app.connect("build-finished", _remove_stale_domain_indices)
    app.connect("html-page-context", _fix_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
