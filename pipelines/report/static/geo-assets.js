/* Offline base map for Plotly's geo traces.
 *
 * go.Choropleth asks for the "world_110m" topology (from https://cdn.plot.ly) even when
 * the base map is hidden. The site never shows it (visible: false), so an empty but
 * valid topology is registered here, before plotly.min.js loads: no request is made and
 * the page works from file:// without a network. */
(function () {
  "use strict";
  var empty = function () { return {type: "GeometryCollection", geometries: []}; };
  var topology = function () {
    return {
      type: "Topology", arcs: [],
      objects: {land: empty(), ocean: empty(), lakes: empty(), rivers: empty(),
                coastlines: empty(), countries: empty(), subunits: empty()}
    };
  };
  var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || {};
  assets.topojson = assets.topojson || {};
  ["world_110m", "world_50m"].forEach(function (name) {
    if (!assets.topojson[name]) { assets.topojson[name] = topology(); }
  });
}());
