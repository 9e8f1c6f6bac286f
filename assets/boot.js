/* Profile dashboard: start the expensive things as the page's HTML arrives (see app/web/boot.py).
 *
 * Loaded from the head of every page, before Dash's own scripts, with:
 *  - data-plotly: the URL of plotly.js (the dashboard's partial build). Until it has run, window.Plotly is
 *    a promise of it, which dcc.Graph's loader waits on (it loads its own plotly.js only when window.Plotly
 *    is missing). With data-eager (a page that draws figures) it is loaded at once; otherwise only when
 *    something first waits on the promise (a page without figures never loads it).
 *  - data-view (projection pages): the URL of the view's figures as one JSON document. Fetched at once;
 *    window.profileView.take(src) (profile.js fetchFigure) then returns a figure from it, once.
 */
(function () {
  "use strict";
  const me = document.currentScript;
  if (!me) { return; }

  const plotlyUrl = me.getAttribute("data-plotly");
  if (plotlyUrl && !window.Plotly) {
    let loading = null;
    const load = function () {
      if (!loading) {
        loading = new Promise(function (resolve, reject) {
          const script = document.createElement("script");
          script.src = plotlyUrl;
          script.async = true;
          // plotly.js replaces window.Plotly with itself as it runs; the promise then resolves to it
          script.onload = function () { resolve(window.Plotly); };
          script.onerror = function () { window.Plotly = undefined; reject(new Error("plotly.js did not load")); };
          document.head.appendChild(script);
        });
      }
      return loading;
    };
    // a thenable: dcc.Graph's Promise.resolve(window.Plotly) calls then(), which starts the load if not started
    window.Plotly = {then: function (done, failed) { return load().then(done, failed); }};
    if (me.hasAttribute("data-eager")) {
      load().catch(function () { /* dcc.Graph says so where the figure should be */ });
    }
  }

  const viewUrl = me.getAttribute("data-view");
  if (viewUrl) {
    const figures = fetch(viewUrl, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (doc) { return doc && doc.figures ? doc.figures : {}; })
      .catch(function () { return {}; });  // the page fetches each figure itself instead
    window.profileView = {
      take: async function (src) {
        const found = await figures;
        if (!Object.prototype.hasOwnProperty.call(found, src)) { return null; }
        const figure = found[src];
        delete found[src];  // once: a later visit to the same view fetches it again
        return figure;
      }
    };
  }
})();
