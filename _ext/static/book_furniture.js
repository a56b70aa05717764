/* The book's own page script (_ext/book_furniture.py adds it to every page).
 *
 * 1. Printing shows everything: before the print dialog renders, every exercise
 *    solution (sphinx-togglebutton) and every dropdown (<details>, except the
 *    "Show code cell source" toggles of hidden infrastructure code) is opened,
 *    and every formula is typeset (MathJax typesets lazily, as formulas come
 *    into view); after printing, the page is put back as it was.
 * 2. Search summaries show formulas as text: Sphinx's search builds each
 *    summary from the text of the page's HTML, where maths is still TeX
 *    ("\(\sigma^2\)"); section titles in the index hold TeX too. Both are
 *    turned into plain text (σ², x̄, ∂ℓ/∂y) before they are shown.
 */
(() => {
  "use strict";

  // ------------------------------------------------------------ printing
  let undo = [];
  const beforePrint = () => {
    document.querySelectorAll(".admonition.toggle-hidden").forEach((el) => {
      el.classList.remove("toggle-hidden");
      undo.push(() => el.classList.add("toggle-hidden"));
    });
    document.querySelectorAll("details:not([open])").forEach((el) => {
      if (el.matches("details.hide")) return; // myst-nb's hidden code cells
      el.open = true;
      undo.push(() => { el.open = false; });
    });
    const mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.document;
    // Synchronous when no extension has to be fetched (the full build has them all).
    if (mj && mj.lazyTypesetAll) mj.lazyTypesetAll();
  };
  const afterPrint = () => {
    undo.forEach((f) => f());
    undo = [];
  };
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", afterPrint);

  // ------------------------------------------------------------ TeX as text
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε",
    zeta: "ζ", eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ",
    lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ",
    tau: "τ", upsilon: "υ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ",
    omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ",
    Pi: "Π", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    cdot: "·", times: "×", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠",
    neq: "≠", approx: "≈", sim: "∼", equiv: "≡", propto: "∝", to: "→",
    rightarrow: "→", leftarrow: "←", Rightarrow: "⇒", iff: "⇔", mapsto: "↦",
    infty: "∞", partial: "∂", nabla: "∇", sum: "∑", prod: "∏", int: "∫",
    in: "∈", notin: "∉", subset: "⊂", subseteq: "⊆", cup: "∪", cap: "∩",
    forall: "∀", exists: "∃", pm: "±", mp: "∓", circ: "∘", odot: "⊙",
    otimes: "⊗", top: "ᵀ", T: "ᵀ", intercal: "ᵀ", dagger: "†", ldots: "…",
    dots: "…", cdots: "⋯", vdots: "⋮", ddots: "⋱", mid: "|", lvert: "|",
    rvert: "|", vert: "|", lVert: "‖", rVert: "‖", Vert: "‖", langle: "⟨",
    rangle: "⟩", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉", ell: "ℓ",
    R: "ℝ", E: "𝔼", Normal: "𝒩", sqrt: "√", emptyset: "∅", lbrace: "{",
    rbrace: "}", setminus: "∖", star: "⋆", ast: "∗", checkmark: "✓",
  };
  const BLACKBOARD = { R: "ℝ", E: "𝔼", N: "ℕ", Z: "ℤ", Q: "ℚ", C: "ℂ", P: "ℙ", "1": "𝟙" };
  const CALLIGRAPHIC = { N: "𝒩", L: "ℒ", D: "𝒟", O: "𝒪" };
  const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷",
    8: "⁸", 9: "⁹", "+": "⁺", "-": "⁻", "−": "⁻", n: "ⁿ", i: "ⁱ", T: "ᵀ", "ᵀ": "ᵀ" };
  const SUB = { 0: "₀", 1: "₁", 2: "₂", 3: "₃", 4: "₄", 5: "₅", 6: "₆", 7: "₇",
    8: "₈", 9: "₉", "+": "₊", "-": "₋", i: "ᵢ", j: "ⱼ", k: "ₖ", n: "ₙ", m: "ₘ",
    l: "ₗ", t: "ₜ", r: "ᵣ", s: "ₛ", x: "ₓ", a: "ₐ", e: "ₑ", o: "ₒ", p: "ₚ" };
  const script = (text, table, mark) => {
    const chars = [...text];
    return chars.every((c) => c in table) ? chars.map((c) => table[c]).join("")
      : mark + (chars.length > 1 ? "(" + text + ")" : text);
  };
  const GROUP = "\\{([^{}]*)\\}";
  const texToText = (tex) => {
    let s = " " + tex + " ";
    s = s.replace(/\\[()[\]]|\$+/g, " ");
    s = s.replace(/\\(begin|end)\{[^{}]*\}(\{[^{}]*\})?/g, " ");
    s = s.replace(/\\label\{[^{}]*\}/g, "");
    s = s.replace(/\\(left|right|big|Big|bigg|Bigg)[lr]?(?![a-zA-Z])\s*(\\[{}|]|[()[\]|.])?/g,
      (m, _w, d) => (d && d !== "." ? d.replace("\\", "") : ""));
    s = s.replace(/\\[,;:! ]|\\q?quad|~/g, " ").replace(/\\\\|&/g, " ");
    for (let i = 0; i < 4; i++) {
      s = s.replace(new RegExp("\\\\mathbb\\s*" + GROUP, "g"), (m, a) => BLACKBOARD[a] || a);
      s = s.replace(new RegExp("\\\\mathcal\\s*" + GROUP, "g"), (m, a) => CALLIGRAPHIC[a] || a);
      s = s.replace(new RegExp("\\\\(?:[dt]?frac)\\s*" + GROUP + "\\s*" + GROUP, "g"),
        (m, a, b) => (/^\w+$/.test(a) ? a : "(" + a + ")") + "/" + (/^\w+$/.test(b) ? b : "(" + b + ")"));
      s = s.replace(new RegExp("\\\\sqrt\\s*" + GROUP, "g"), "√($1)");
      s = s.replace(new RegExp("\\\\(?:bar|overline)\\s*" + GROUP, "g"), "$1\u0304");
      s = s.replace(new RegExp("\\\\(?:hat|widehat)\\s*" + GROUP, "g"), "$1\u0302");
      s = s.replace(new RegExp("\\\\(?:tilde|widetilde)\\s*" + GROUP, "g"), "$1\u0303");
      s = s.replace(new RegExp("\\\\(?:mathrm|mathbf|mathit|boldsymbol|bm|text|textrm|textit|textbf|operatorname|mathsf|mathtt|emph)\\s*" + GROUP, "g"), "$1");
      s = s.replace(/\\(bar|hat|tilde)\s*(\\?[A-Za-z])/g, (m, acc, a) =>
        a + { bar: "\u0304", hat: "\u0302", tilde: "\u0303" }[acc]);
      s = s.replace(/\\([A-Za-z]+)/g, (m, name) => (name in SYMBOLS ? SYMBOLS[name] : name));
      s = s.replace(new RegExp("\\^\\s*" + GROUP, "g"), (m, a) => script(a.trim(), SUP, "^"));
      s = s.replace(new RegExp("_\\s*" + GROUP, "g"), (m, a) => script(a.trim(), SUB, "_"));
    }
    s = s.replace(/\^\s*([^\s{}^_])/g, (m, a) => script(a, SUP, "^"));
    s = s.replace(/_\s*([^\s{}^_])/g, (m, a) => script(a, SUB, "_"));
    s = s.replace(/\\/g, "").replace(/[{}]/g, "");
    return s.replace(/\s+/g, " ").trim();
  };
  window.bookTexToText = texToText; // for the browser test

  // ------------------------------------------------------------ search
  const plainTitles = (index) => {
    if (!index || !index.alltitles) return;
    for (const title of Object.keys(index.alltitles)) {
      if (!/[\\$]/.test(title)) continue;
      const plain = texToText(title);
      index.alltitles[plain] = (index.alltitles[plain] || []).concat(index.alltitles[title]);
      delete index.alltitles[title];
    }
  };
  const patchSearch = () => {
    if (typeof Search === "undefined" || Search.bookPatched) return;
    Search.bookPatched = true;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => {
        el.querySelectorAll(".eqno, .headerlink").forEach((e) => e.remove());
        el.replaceWith(doc.createTextNode(" " + texToText(el.textContent) + " "));
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    const setIndex = Search.setIndex;
    Search.setIndex = (index) => { plainTitles(index); setIndex(index); };
    plainTitles(Search._index);
  };
  // Before Sphinx's Search.init (also on DOMContentLoaded, registered later).
  document.addEventListener("DOMContentLoaded", patchSearch);
})();
