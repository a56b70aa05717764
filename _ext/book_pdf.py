"""The whole book as one PDF, and the site's links to it.

``make pdf`` runs Jupyter Book 1's LaTeX builder (``jupyter-book build . --builder
pdflatex``: Sphinx's LaTeX writer with sphinx-jupyterbook-latex, then XeLaTeX via
latexmk) and leaves ``_build/latex/book.pdf``. For that build this extension

* defines the MathJax macros of ``_config.yml`` (``mathjax3_config.tex.macros``:
  ``\\R``, ``\\E``, ``\\Normal``, ...) as LaTeX commands, so both outputs read one list;
* numbers theorems, propositions and exercises per chapter as the site does
  (Theorem 1.1, not sphinx-jupyterbook-latex's Theorem 1.4.1), keeping equations and
  figures numbered within chapters, (3.4);
* resolves references to an exercise of another chapter (sphinx-exercise labels
  exercises ``exercise:<label>`` but cross-document references ask for
  ``<docname>:<label>``, which printed "Exercise ??");
* prints proofs as text ending in a square (sphinx-proof gives them an empty title
  bar in LaTeX) and leaves out front-matter headings with nothing under them (the
  landing page's "References": LaTeX prints the bibliography at the end);
* lends ``bbm.sty`` (``_ext/latex``): the jupyterBook LaTeX class loads it for macros
  the book does not use, and Debian ships it only in the 500 MB texlive-fonts-extra;
* takes U+2718 from FreeSerif in code (FreeMono, the monospace font, lacks it);
* uses makeindex rather than xindy and prints no domain index ("Proof Index");
* leaves no blank page: chapters and parts open on the next page, not the next odd
  one (``openany``; with ``openright`` the back of the title page, the page after the
  introduction and after each part page and some chapter ends were empty but for a
  running head);
* gives the introduction its own running head, ``INTRO_HEAD``: it has no chapter
  heading (Jupyter Book prints the landing page right after the contents), so its
  pages carried the contents' head, "CONTENTS".

Solutions are printed in full: the ``dropdown`` class only matters on the site.

For the HTML build: when ``_build/latex/book.pdf`` exists, it is copied to
``_build/html/book.pdf``, the download menu's ".pdf" entry (otherwise the browser's
print dialog) links to it, and the ``{book-pdf}`` directive on the landing page
shows its paragraph followed by the link. Without the PDF there is no link at all
(and a stale copy is removed), never a dead one.

Why no package: each item mends how sphinx-jupyterbook-latex, sphinx-proof and
sphinx-exercise meet in LaTeX (or this book's macros and fonts); none of them, nor a
separate extension, offers these as options.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

HERE = Path(__file__).resolve().parent
PDF_NAME = "book.pdf"  # _config.yml: latex.latex_documents.targetname is book.tex
INTRO_HEAD = "Introduction"  # the running head of the landing page's pages

PREAMBLE = r"""
%% _ext/book_pdf.py
% Figures, tables, code and equations numbered within chapters, (3.4), while the
% theorem-like blocks take the site's numbers (numfig_secnum_depth = 1).
\AtBeginDocument{%
  \counterwithin{figure}{chapter}%
  \counterwithin{table}{chapter}%
  \counterwithin{literalblock}{chapter}%
  \counterwithin{equation}{chapter}}
% FreeMono has no U+2718 (heavy ballot X), used in code output.
\usepackage{newunicodechar}
\newfontfamily\bookpdfdingbats{FreeSerif}[Extension=.otf]
\newunicodechar{^^^^2718}{{\bookpdfdingbats\char"2718}}
"""


def _latex_macros(config: Any) -> str:
    """``\\newcommand``s for the macros MathJax is given in ``mathjax3_config``."""
    macros = ((config.mathjax3_config or {}).get("tex") or {}).get("macros") or {}
    lines = ["% The MathJax macros of _config.yml (mathjax3_config.tex.macros)"]
    for name, body in macros.items():
        nargs = 0
        if isinstance(body, list):  # MathJax's [definition, number of arguments]
            body, nargs = body[0], int(body[1])
        args = f"[{nargs}]" if nargs else ""
        # \providecommand then \renewcommand: defined whether or not LaTeX has one.
        lines.append(f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{args}{{{body}}}")
    return "\n".join(lines) + "\n"


def pdf_source(app: Sphinx) -> Path:
    """Where the LaTeX build leaves the PDF: ``_build/latex/book.pdf``."""
    return Path(app.outdir).parent / "latex" / PDF_NAME


def _configure(app: Sphinx, config: Any) -> None:
    elements = dict(config.latex_elements or {})
    elements["preamble"] = elements.get("preamble", "") + _latex_macros(config) + PREAMBLE
    options = [o for o in elements.get("extraclassoptions", "").split(",") if o.strip()]
    elements["extraclassoptions"] = ",".join(dict.fromkeys([*options, "openany"]))
    config.latex_elements = elements
    bbm = os.path.relpath(HERE / "latex" / "bbm.sty", app.confdir)
    config.latex_additional_files = [*config.latex_additional_files, bbm]
    config.latex_use_xindy = False
    config.latex_domain_indices = False
    # An html-rebuild value: pages are rewritten when the PDF appears or goes.
    config.book_pdf = PDF_NAME if pdf_source(app).is_file() else ""


def _latex_numbering(app: Sphinx) -> None:
    # sphinx-jupyterbook-latex sets 2 when the book has parts, so that LaTeX resets
    # equation numbers per chapter; the counters are reset in PREAMBLE instead.
    if app.builder.format == "latex":
        app.config.numfig_secnum_depth = 1


class book_pdf_node(nodes.General, nodes.Element):
    """Content shown, with a link to the PDF, only on a site that has the PDF."""


class BookPdfDirective(SphinxDirective):
    """``{book-pdf}``: a paragraph that ends with a link to the book's PDF."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        node = book_pdf_node()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class ResolveBookPdf(SphinxPostTransform):
    default_priority = 800

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(book_pdf_node)):
            if self.app.builder.format == "html" and self.config.book_pdf:
                docname = self.env.docname
                uri = posixpath.relpath(self.config.book_pdf, posixpath.dirname(docname) or ".")
                paragraphs = [p for p in node.findall(nodes.paragraph)]
                link = nodes.reference("", self.config.book_pdf, refuri=uri)
                if paragraphs:
                    paragraphs[-1] += [nodes.Text(" "), link]
                else:
                    node += nodes.paragraph("", "", link)
                node.replace_self(node.children)
            else:
                node.parent.remove(node)


class LatexFixes(SphinxPostTransform):
    """Exercise references, proofs as text, empty front-matter headings."""

    builders = ("latex",)
    default_priority = 800  # after sphinx-exercise (22) and sphinx-jupyterbook-latex (700)

    def run(self, **kwargs: Any) -> None:
        self._exercise_references()
        self._proofs()
        self._empty_root_headings()
        self._intro_head()

    def _intro_head(self) -> None:
        """The landing page opens the body of the book (the whole book is one doctree,
        the root document's content first)."""
        if self.env.docname == self.config.root_doc:
            mark = rf"\markboth{{{INTRO_HEAD}}}{{{INTRO_HEAD}}}"
            self.document.insert(0, nodes.raw("", mark + "\n", format="latex"))

    def _exercise_references(self) -> None:
        try:
            from sphinx_exercise.nodes import (
                exercise_enumerable_node,
                exercise_latex_number_reference,
            )
        except ImportError:
            return
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for ref in list(self.document.findall(nodes.reference)):
            if isinstance(ref, exercise_latex_number_reference):
                continue
            label = ref.get("refid") or ref.get("refuri", "").rpartition("#")[2]
            entry = registry.get(label)
            if not entry or not isinstance(entry.get("node"), exercise_enumerable_node):
                continue
            new = exercise_latex_number_reference()
            new["refid"] = label
            new += ref.children
            ref.replace_self(new)
        # "Solution to" + " Exercise 1.1": the space inside \hyperref{...} is lost in
        # the PDF ("Solution toExercise 1.1"), so it goes before the link.
        for ref in list(self.document.findall(exercise_latex_number_reference)):
            first = ref.children[0] if ref.children else None
            if isinstance(first, nodes.Text) and first[:1].isspace():
                ref.replace(first, nodes.Text(first.lstrip()))
                ref.parent.insert(ref.parent.index(ref), nodes.Text(" "))

    def _proofs(self) -> None:
        try:
            from sphinx_proof.nodes import proof_node
        except ImportError:
            return
        for proof in list(self.document.findall(proof_node)):
            for box in [c for c in proof.children if isinstance(c, nodes.admonition)]:
                body = list(box.children)
                first = body[0] if body else None
                if isinstance(first, nodes.paragraph) and first.children:
                    text = first.children[0]
                    if isinstance(text, nodes.Text) and text.startswith("Proof. "):
                        first.replace(text, nodes.Text(text[len("Proof. "):]))
                        first.insert(0, [nodes.emphasis("", "Proof."), nodes.Text(" ")])
                qed = nodes.raw("", r"\nobreak\hfill\(\square\)", format="latex")
                if body and isinstance(body[-1], nodes.paragraph):
                    body[-1] += qed
                else:
                    body.append(nodes.paragraph("", "", qed))
                box.replace_self(body)

    def _empty_root_headings(self) -> None:
        try:
            from sphinx_jupyterbook_latex.nodes import HiddenCellNode, RootHeader
        except ImportError:
            return

        def is_content(node: nodes.Node) -> bool:
            if isinstance(node, HiddenCellNode):  # a {tableofcontents} becomes a list later
                return "latex-tableofcontents" in node.get("classes", [])
            return bool(node.astext().strip()) or any(True for _ in node.findall(nodes.image))

        for header in list(self.document.findall(RootHeader)):
            parent = header.parent
            body = itertools.takewhile(
                lambda n: not isinstance(n, RootHeader), parent.children[parent.index(header) + 1:]
            )
            if not any(is_content(n) for n in body):
                parent.remove(header)


def _download_menu(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if not app.config.book_pdf:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        for i, button in enumerate(group.get("buttons", [])):
            if button.get("label") == "download-pdf-button":
                group["buttons"][i] = {
                    "type": "link",
                    "url": context["pathto"](app.config.book_pdf, 1),
                    "text": ".pdf",
                    "tooltip": "Download the whole book as a PDF",
                    "icon": "fas fa-file-pdf",
                    "label": "download-pdf-button",
                }


def _copy_pdf(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / PDF_NAME
    if app.config.book_pdf:
        shutil.copy2(pdf_source(app), dest)
    elif dest.exists():
        dest.unlink()


def _skip(self: Any, node: Any) -> None:
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_pdf", "", "html", [str])
    app.add_node(book_pdf_node, html=(_skip, None), latex=(_skip, None), text=(_skip, None))
    app.add_directive("book-pdf", BookPdfDirective)
    app.add_post_transform(ResolveBookPdf)
    app.add_post_transform(LatexFixes)
    # After sphinx-jupyterbook-latex's config-inited (500), which appends to the preamble.
    app.connect("config-inited", _configure, priority=800)
    app.connect("builder-inited", _latex_numbering, priority=800)
    app.connect("html-page-context", _download_menu, priority=600)  # theme's buttons: 501
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
