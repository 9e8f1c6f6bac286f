/* Profile dashboard: browser-side helpers (no network beyond this server).
 *  - fetchFigure: a figure's cached JSON, fetched straight from the server (or taken from the view's
 *    figures that boot.js fetched as the page loaded);
 *  - canonicalUrl: show the canonical URL without adding a history entry;
 *  - addTag: a group tag chip appends an OR item to the groups field;
 *  - delegated clicks: copy link / copy CLI command, PNG download.
 * Component ids live in app/web/ids.py; this file names none itself: the copy buttons carry their
 * target in data-copy (ids.CLI_COMMAND), the rest is found by class (.js-copy, .js-png, .figure-card).
 * The callbacks below are wired in app/web/callbacks.py (fetchFigure: ids.graph / ids.figure_src;
 * canonicalUrl: ids.VIEW_QUERY → ids.CANONICAL_URL) and app/web/filter_bar.py (addTag: ids.tag → ids.FB_GROUPS).
 */
(function () {
  "use strict";

  function messageFigure(text) {
    return {data: [], layout: {xaxis: {visible: false}, yaxis: {visible: false},
      annotations: [{text: text, showarrow: false, font: {size: 14, color: "#b00"}}]}};
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    profile: {
      fetchFigure: async function (src) {
        if (!src) { return window.dash_clientside.no_update; }
        try {
          // the view's figures, fetched as the page's HTML arrived (boot.js), when this is one of them
          let figure = window.profileView ? await window.profileView.take(src) : null;
          if (!figure) {
            const response = await fetch(src, {credentials: "same-origin"});
            if (!response.ok) {
              return messageFigure("Could not load this figure (" + response.status + "): reload the page.");
            }
            figure = await response.json();
          }
          window.profileFiguresDrawn = (window.profileFiguresDrawn || 0) + 1;
          return figure;
        } catch (err) {
          return messageFigure("Could not load this figure: " + err);
        }
      },
      canonicalUrl: function (data) {
        if (!data) { return window.dash_clientside.no_update; }
        const want = data.search || "";
        if (window.location.search !== want) {
          window.history.replaceState(window.history.state, "", window.location.pathname + want + window.location.hash);
        }
        return want;
      },
      addTag: function (clicks, text) {
        const ctx = window.dash_clientside.callback_context;
        if (!ctx.triggered.length || !ctx.triggered[0].value) { return window.dash_clientside.no_update; }
        const tag = JSON.parse(ctx.triggered[0].prop_id.split(".")[0]).tag;
        let items = [];
        try { items = text && text.trim() ? JSON.parse(text) : []; } catch (e) { items = []; }
        if (!Array.isArray(items)) { items = [items]; }
        if (items.indexOf(tag) < 0) { items.push(tag); }
        return JSON.stringify(items);
      }
    }
  });

  function copyText(text, button) {
    window.profileLastCopied = text;
    const done = function () {
      const old = button.dataset.label || button.textContent;
      button.dataset.label = old;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable on the page */ }
    document.body.removeChild(area);
  }

  document.addEventListener("click", function (event) {
    const copy = event.target.closest(".js-copy");
    if (copy) {
      const what = copy.getAttribute("data-copy");
      const text = what === "link" ? window.location.href
        : (document.querySelector(what) || {}).textContent || "";
      copyText(text, copy);
      return;
    }
    const png = event.target.closest(".js-png");
    if (png && window.Plotly && typeof window.Plotly.downloadImage === "function") {
      const card = png.closest(".figure-card");
      const graph = card && card.querySelector(".js-plotly-plot");
      if (graph) {
        window.Plotly.downloadImage(graph, {
          format: "png", filename: png.getAttribute("data-filename") || "figure",
          width: Number(png.getAttribute("data-width")) || 1200,
          height: Number(png.getAttribute("data-height")) || 800
        });
      }
    }
  });
})();
