"""Main-thread long tasks while a page loads, as the browser test measures them.

``LONGTASK_INIT_JS`` is given to ``page.add_init_script``: it runs before any
script of the page and records every ``longtask`` entry (a task of 50 ms or
more, Long Tasks API) in ``window.__longtasks``. ``SETTLE_JS`` waits until the
page has loaded, MathJax has started and typeset what is in view (with lazy
typesetting: until its idle-time batch has run) and the main thread has been
idle for a moment; it returns the longest task (ms) and when the page settled.
"""

LONGTASK_INIT_JS = """
window.__longtasks = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) {
    window.__longtasks.push({start: e.startTime, duration: e.duration});
  }
}).observe({type: 'longtask', buffered: true});
"""

SETTLE_JS = """async () => {
  const idle = () => new Promise(r => (window.requestIdleCallback || setTimeout)(r, {timeout: 2000}));
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  if (document.readyState !== 'complete') {
    await new Promise(r => window.addEventListener('load', r, {once: true}));
  }
  if (document.querySelector('.math')) {
    const t0 = performance.now();
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      if (performance.now() - t0 > 30000) break;
      await new Promise(r => setTimeout(r, 20));
    }
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
      const doc = MathJax.startup.document;
      // ui/lazy: the maths in view is typeset in an idle callback after startup.
      for (let i = 0; i < 200 && doc && (doc.lazyIdle || doc.lazySet && doc.lazySet.size); i++) {
        await idle();
        if (doc.lazyPromise) await doc.lazyPromise;
      }
    }
  }
  for (let i = 0; i < 3; i++) { await frame(); await idle(); }
  const settled = performance.now();
  const tasks = window.__longtasks || [];
  return {longest: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
          settled: settled, tasks: tasks};
}"""
