/* The floor page (bench/floor.py): load plotly.js and fetch the view's figures at once, then draw each
 * figure as the dashboard's graphs do (same config, same size), in a .figure-card like the dashboard's. */
(function () {
  "use strict";
  const me = document.currentScript;
  const plotly = new Promise(function (resolve, reject) {
    const script = document.createElement("script");
    script.src = me.getAttribute("data-plotly");
    script.async = true;
    script.onload = resolve;
    script.onerror = reject;
    document.head.appendChild(script);
  });
  const figures = fetch(me.getAttribute("data-view"), {credentials: "same-origin"})
    .then(function (response) { return response.json(); });
  Promise.all([plotly, figures, new Promise(function (r) { document.addEventListener("DOMContentLoaded", r); })])
    .then(function (done) {
      const holder = document.getElementById("figures");
      Object.values(done[1].figures).forEach(function (figure) {
        const card = document.createElement("div");
        card.className = "figure-card";
        const graph = document.createElement("div");
        graph.style.height = ((figure.layout && figure.layout.height) || 800) + "px";
        graph.style.minWidth = "1200px";
        card.appendChild(graph);
        holder.appendChild(card);
        window.Plotly.newPlot(graph, figure.data, figure.layout, {displaylogo: false, responsive: true});
      });
    });
})();
