/* Lazy typesetting (MathJax's ui/lazy), made quicker to the first screen and lighter.
 * Loaded after the MathJax configuration and before MathJax itself, on pages with
 * maths (_ext/offline_mathjax.py).
 *
 * 1. The first screen is typeset in MathJax's startup pass. ui/lazy typesets a
 *    formula once an IntersectionObserver has reported it in view, in an idle
 *    callback after startup: on a page still busy loading (theme scripts, fonts,
 *    images) the first screen waited for the main thread to go idle. When MathJax
 *    starts, the formulas in the window or within lazyMargin below it are marked,
 *    and lazyAlwaysTypeset has the startup pass typeset them (chapter 1: the first
 *    screen 0.2-0.3 s sooner, benchmarks/README.md). A link to an equation opens the
 *    page scrolled to it: the marked formulas are those around it.
 * 2. With ui/lazy, MathJax 3.2 still measures the surroundings (em, ex, line width)
 *    of every formula of the page at load, though it typesets only those in view: a
 *    forced layout of the whole page for each of a few hundred paragraphs' test
 *    nodes, 100 ms of the longest task on chapter 1. A formula not yet compiled is
 *    compiled, measured and typeset again when it comes into view (or before
 *    printing), so it is skipped here: its state is moved past the measuring step.
 */
(() => {
  "use strict";
  const config = window.MathJax;
  if (!config || !config.loader || !(config.loader.load || []).includes("ui/lazy")) return;
  config.options = config.options || {};

  const FIRST = "mathjax-first-screen";
  const always = config.options.lazyAlwaysTypeset;
  config.options.lazyAlwaysTypeset = always ? `${always}, .${FIRST}` : `.${FIRST}`;
  config.startup = config.startup || {};
  const pageReady = config.startup.pageReady;
  config.startup.pageReady = () => {
    const margin = parseFloat(config.options.lazyMargin || "200") || 0;
    const bottom = window.innerHeight + margin;
    for (const el of document.querySelectorAll(".math")) {
      const box = el.getBoundingClientRect();
      if (box.top > bottom) break; // document order: the rest are further down
      if (box.width && box.bottom > -margin) el.classList.add(FIRST);
    }
    return pageReady ? pageReady() : window.MathJax.startup.defaultPageReady();
  };

  config.options.renderActions = Object.assign({}, config.options.renderActions, {
    // Between COMPILED (20) and METRICS (110).
    lazySkipMetrics: [105, (doc) => {
      const METRICS = window.MathJax._.core.MathItem.STATE.METRICS;
      for (const math of doc.math) {
        if (math.lazyCompile && math.state() < METRICS) math.state(METRICS);
      }
    }, () => {}, false],
  });
})();
