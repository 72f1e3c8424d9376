/* The grid map: grid boundaries and, per building and grid, a marker sized by its
 * households. Data comes from the <script type="application/json" id="grid-map-data">
 * block the page renders with json_script; no tiles unless the deployment sets
 * DOORSTEP["MAP_TILE_URL"]. Colours match the .grid-color-N classes of the legend; the
 * server picks them so that neighbouring grids differ (grids.selectors.map_colours). */
(function () {
  "use strict";
  var PALETTE = [
    "#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f",
    "#ad1457", "#4e342e", "#558b2f", "#283593", "#f9a825", "#37474f"
  ];

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function draw() {
    var holder = document.getElementById("grid-map");
    var source = document.getElementById("grid-map-data");
    if (!holder || !source || typeof L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { attributionControl: false, zoomSnap: 0.25 });
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    // Leaflet's vector renderer needs the map to have a view before a path is added,
    // so the layers are built first, the view is set from their bounds, and only then
    // are they added.
    var layers = [];
    var bounds = L.latLngBounds([]);
    data.grids.forEach(function (grid) {
      if (!grid.boundary) {
        return;
      }
      var layer = L.geoJSON(grid.boundary, {
        style: {
          color: colour(grid.colour),
          weight: 2,
          fillOpacity: 0.12,
          dashArray: grid.estimated ? "6 4" : null
        }
      }).bindTooltip(grid.name + " · " + grid.households, { sticky: true });
      layers.push(layer);
      bounds.extend(layer.getBounds());
    });
    data.markers.forEach(function (marker) {
      var point = L.latLng(marker.lat, marker.lng);
      layers.push(L.circleMarker(point, {
        radius: Math.max(4, Math.min(14, 3 + Math.sqrt(marker.households) * 1.5)),
        color: colour(marker.colour),
        weight: 1,
        fillOpacity: 0.8
      }).bindTooltip(marker.label + " · " + marker.households));
      bounds.extend(point);
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
    } else if (data.center) {
      map.setView(data.center, 16);
    } else {
      map.setView([35, 105], 4);
    }
    layers.forEach(function (layer) {
      layer.addTo(map);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
