/* Draws every chart of the page from the Plotly JSON embedded next to it.
 *
 * Each chart is a <div data-figure="ID"> and a <script type="application/json" id="ID">.
 * The data travels inside the page because a browser cannot fetch() files from file://.
 * When all charts are drawn, <html data-charts-ready="true"> (used by tests and
 * screenshots). Charts are redrawn at the paper's width before printing. */
(function () {
  "use strict";
  var config = {displayModeBar: false, responsive: true, scrollZoom: false, showTips: false};
  var charts = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));

  function draw(element) {
    var spec = JSON.parse(document.getElementById(element.getAttribute("data-figure")).textContent);
    return Plotly.newPlot(element, spec.data, spec.layout, config);
  }

  function resizeAll() {
    charts.forEach(function (element) { Plotly.Plots.resize(element); });
  }

  Promise.all(charts.map(draw)).then(function () {
    document.documentElement.setAttribute("data-charts-ready", "true");
  }).catch(function (error) {
    console.error("Un graphique n'a pas pu être dessiné :", error);
  });
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
}());
