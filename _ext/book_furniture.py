"""What a reader expects of a book, that Jupyter Book 1 does not give by default.

* **Appendices lettered A, B, ...** Chapters are numbered across the parts of
  ``_toc.yml`` (``use_multitoc_numbering``), so the appendix came out as
  chapter 4, its equations (4.3). After Sphinx has numbered sections, figures,
  equations and theorem-like blocks (``env-get-updated``), the chapter number
  of every document in the part captioned ``book_appendix_caption``
  ("Appendix") is replaced by a letter: the heading, the sidebar and every
  ``{eq}``/``{numref}`` say A, (A.3), Figure A.1. In the PDF, LaTeX's
  ``\\appendix`` goes before the first appendix (the same letters).
* **The page TOC shows H3 subsections** (the theme's ``show_toc_level: 2``).
* **A favicon**: ``html.favicon`` in ``_config.yml`` links it from every page;
  this extension also copies ``favicon.ico`` to the site's root, where browsers
  look for it when a page (e.g. the redirecting ``index.html``) names none.
* **A last-updated date on the pages without a source** (``genindex``, ``search``).
  ``sphinx-last-updated-by-git`` dates every page from the last commit of its source
  and leaves these two undated; they get the newest date of the site.
* **``{package-versions}``**: a table of the versions of the key packages,
  read when the page is built (the page is re-read by every build).
* ``_ext/static/book_furniture.js`` and ``.css``: printing opens every exercise
  solution and dropdown and typesets every formula first (MathJax typesets
  lazily); search summaries show formulas as text, not raw TeX.
* **HTML-only pages** (``book_html_only``: the References and build-status
  pages) are left out of the PDF, which prints its bibliography at the end.

Why no package: the dates are ``sphinx-last-updated-by-git``'s (loaded here). Sphinx and
Jupyter Book 1 number chapters only with digits, and no maintained extension letters an
appendix part across sections, equations, figures and theorem-like blocks; the rest is a
few lines of configuration of this book (its versions table, its print styles).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.i18n import format_date

STATIC = Path(__file__).resolve().parent / "static"

# (distribution name, what it is for), in the order the table lists them.
PACKAGES = [
    ("jupyter-book", "builds the book"),
    ("sphinx", "the documentation engine under Jupyter Book"),
    ("myst-nb", "reads and executes the notebooks"),
    ("sphinx-book-theme", "the page layout"),
    ("sphinxcontrib-bibtex", "citations and the References page"),
    ("numpy", "arrays, linear algebra (hw4lib)"),
    ("scipy", "special functions, optimisation"),
    ("sympy", "the symbolic derivations"),
    ("matplotlib", "the figures"),
    ("scikit-learn", "the reference PCA and datasets"),
    ("nbval", "compares re-executed notebooks with these pages"),
    ("hw4lib", "the library written with this book"),
]


# ------------------------------------------------------------------ appendices
def _appendix_docs(env: BuildEnvironment) -> list[str]:
    caption = env.config.book_appendix_caption
    root = env.config.root_doc
    docs: list[str] = []
    if root not in env.tocs:
        return docs
    for toctree in env.tocs[root].findall(addnodes.toctree):
        if toctree.get("caption") == caption:
            docs.extend(ref for _title, ref in toctree["entries"] if ref in env.tocs)
    return docs


def _letter_appendices(app: Sphinx, env: BuildEnvironment) -> list[str]:
    docs = _appendix_docs(env)
    for i, doc in enumerate(docs):
        letter = chr(ord("A") + i)
        secnums = env.toc_secnumbers.get(doc)
        if not secnums or not secnums.get(""):
            continue  # not numbered
        old = secnums[""][0]

        def swap(number: Any) -> Any:
            if number and number[0] == old:
                return type(number)((letter, *number[1:]))
            return number

        env.toc_secnumbers[doc] = {k: swap(v) for k, v in secnums.items()}
        for figtype, numbers in env.toc_fignumbers.get(doc, {}).items():
            env.toc_fignumbers[doc][figtype] = {k: swap(v) for k, v in numbers.items()}
        for ref in env.tocs[doc].findall(nodes.reference):
            if ref.get("secnumber"):
                ref["secnumber"] = list(swap(tuple(ref["secnumber"])))
        title = env.titles.get(doc)
        if title is not None and title.get("secnumber"):
            title["secnumber"] = list(swap(tuple(title["secnumber"])))
    return docs


class LatexBookStructure(SphinxPostTransform):
    """In the PDF: ``\\appendix`` before the first appendix; no HTML-only pages."""

    builders = ("latex",)
    default_priority = 850  # after sphinx-jupyterbook-latex (700) and book_pdf (800)

    def run(self, **kwargs: Any) -> None:
        html_only = set(self.config.book_html_only)
        for sof in list(self.document.findall(addnodes.start_of_file)):
            if sof.get("docname") in html_only:
                sof.parent.remove(sof)
        # A part (sphinx-jupyterbook-latex: a section titled by the toctree's caption)
        # with no chapter left in it goes too.
        for sof in list(self.document.findall(addnodes.start_of_file)):
            section = sof.next_node(nodes.section)
            if section is None or section.get("docname") != sof.get("docname"):
                continue
            if sof.get("docname") in self.env.found_docs:
                continue  # a chapter, not a part
            inner = [s for s in section.findall(addnodes.start_of_file)]
            if not inner:
                sof.parent.remove(sof)
        appendices = _appendix_docs(self.env)
        for sof in self.document.findall(addnodes.start_of_file):
            if sof.get("docname") in appendices:
                sof.insert(0, nodes.raw("", "\\appendix\n", format="latex"))
                break


def _latex_html_only_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """In the PDF: no entry of the landing page's contents and no link for the
    HTML-only pages (their text stays, unlinked). On ``doctree-resolved``: after
    every post-transform, sphinx-jupyterbook-latex's ListTableOfContents (999, the
    last priority docutils orders correctly) included."""
    if app.builder.format != "latex":
        return
    html_only = set(app.config.book_html_only)

    def target(ref: nodes.Element) -> str:
        uri = ref.get("refuri", "")
        return uri[1:].split("#")[0] if uri.startswith("%") else ""

    for ref in list(doctree.findall(nodes.reference)):
        if target(ref) not in html_only or ref.parent is None:
            continue
        para, item = ref.parent, ref.parent.parent
        if (isinstance(para, nodes.paragraph) and isinstance(item, nodes.list_item)
                and len(para.children) == 1 and len(item.children) == 1):
            _remove_list_item(item)
        else:
            ref.replace_self(ref.children)


def _remove_list_item(item: nodes.Element) -> None:
    """Remove a list item; a list left empty goes too, and so does the caption item
    (a paragraph with no link) that held it."""
    lst = item.parent
    lst.remove(item)
    if lst.children:
        return
    outer = lst.parent
    index = outer.index(lst)
    outer.remove(lst)
    if isinstance(outer, nodes.list_item):
        if not any(True for _ in outer.findall(nodes.reference)):
            _remove_list_item(outer)
    elif index > 0 and isinstance(outer[index - 1], nodes.list_item):
        # sphinx-jupyterbook-latex puts a part's caption item before its list
        caption = outer[index - 1]
        if not any(True for _ in caption.findall(nodes.reference)):
            _remove_list_item(caption)


# ------------------------------------------------------------------ versions
def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _mathjax_version(srcdir: Path) -> str:
    for root in (srcdir, *srcdir.parents):
        pkg = root / "node_modules" / "mathjax" / "package.json"
        if pkg.is_file():
            return str(json.loads(pkg.read_text(encoding="utf-8"))["version"])
    return "not installed"


def _blas() -> str:
    try:
        import numpy

        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except Exception:  # noqa: BLE001 - informative only
        return "unknown"


class PackageVersionsDirective(SphinxDirective):
    """``{package-versions}``: the versions this build ran with, as a table."""

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()  # versions change without the page changing
        rows = [("Python", platform.python_version(), "runs the notebooks and the build")]
        rows += [(dist, _version(dist), why) for dist, why in PACKAGES]
        rows += [
            ("BLAS (numpy's)", _blas(), "matrix products in the notebooks"),
            ("MathJax (npm)", _mathjax_version(Path(self.env.srcdir)), "typesets the formulas"),
        ]
        table = nodes.table(classes=["package-versions"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (25, 20, 55):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        body = nodes.tbody()
        group += body

        def row(cells: tuple[str, str, str], literal: bool) -> nodes.row:
            r = nodes.row()
            for k, text in enumerate(cells):
                entry = nodes.entry()
                para = nodes.paragraph()
                para += nodes.literal(text, text) if literal and k == 1 else nodes.Text(text)
                entry += para
                r += entry
            return r

        head += row(("Package", "Version", "Used for"), literal=False)
        for cells in rows:
            body += row(cells, literal=True)
        return [table]


# ------------------------------------------------------------------ html
def _configure(app: Sphinx, config: Any) -> None:
    options = dict(config.html_theme_options or {})
    options.setdefault("show_toc_level", 2)
    config.html_theme_options = options
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_extra_path = [*config.html_extra_path, str(STATIC / "favicon.ico")]


def _date_pages_without_source(app: Sphinx, pagename: str, templatename: str,
                                context: dict[str, Any], doctree: Any) -> None:
    """After sphinx-last-updated-by-git (priority 500): an undated page with no source
    gets the date of the newest commit of any page."""
    if context.get("last_updated") is not None or "sourcename" in context:
        return
    stamps = [data[0] for data in getattr(app.env, "git_last_updated", {}).values()
              if data is not None and data[0] is not None]
    if stamps and app.config.html_last_updated_fmt:
        date = datetime.fromtimestamp(int(max(stamps)), timezone.utc)
        context["last_updated"] = format_date(
            app.config.html_last_updated_fmt,
            date=date.astimezone(app.config.git_last_updated_timezone),
            language=app.config.language)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_appendix_caption", "Appendix", "env", [str])
    app.add_config_value("book_html_only", [], "env", [list])
    app.setup_extension("sphinx_last_updated_by_git")
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _date_pages_without_source, priority=600)
    # After the toctree collector (500) has numbered everything.
    app.connect("env-get-updated", _letter_appendices, priority=900)
    app.add_directive("package-versions", PackageVersionsDirective)
    app.add_post_transform(LatexBookStructure)
    app.connect("doctree-resolved", _latex_html_only_links)
    app.add_js_file("book_furniture.js")
    app.add_css_file("book_furniture.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
