/* Loaded after the MathJax configuration and before MathJax itself (offline_mathjax.py).
 *
 * With ui/lazy, MathJax 3.2 still measures the surroundings (em, ex, line width) of
 * every formula of the page at load, though it typesets only those in view: a forced
 * layout of the whole page for each of a few hundred paragraphs' test nodes, 100 ms
 * of the longest task on chapter 1. A formula not yet compiled is compiled, measured
 * and typeset again when it comes into view (or before printing), so it is skipped
 * here: its state is moved past the measuring step.
 */
(() => {
  "use strict";
  const config = window.MathJax;
  if (!config || !config.loader || !(config.loader.load || []).includes("ui/lazy")) return;
  config.options = config.options || {};
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
