/* Maps of the site pages: sites near me (and the "use my location" button), one site,
 * and the coverage map with planning mode. Data comes from the JSON block
 * #sites-map-data rendered with json_script. Tiles only when the deployment sets a tile
 * URL; otherwise unit boundaries, sites and households on a plain background. */
(function () {
  "use strict";

  function locateButton() {
    var button = document.getElementById("locate");
    var form = document.getElementById("near-form");
    if (!button || !form) {
      return;
    }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) {
        window.alert(button.dataset.error);
        return;
      }
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
        form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(6);
        form.querySelector("[name=datum]").value = "wgs84";
        form.submit();
      }, function () {
        window.alert(button.dataset.error);
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }

  function draw() {
    var holder = document.getElementById("sites-map");
    var source = document.getElementById("sites-map-data");
    if (!holder || !source || typeof L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { attributionControl: false, zoomSnap: 0.25 });
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var layers = [];
    var bounds = L.latLngBounds([]);
    if (data.boundary) {
      var outline = L.geoJSON(data.boundary, { style: { color: "#555", weight: 2, fillOpacity: 0.04 } });
      layers.push(outline);
      bounds.extend(outline.getBounds());
    }
    (data.points || []).forEach(function (p) {
      var point = L.latLng(p.lat, p.lng);
      layers.push(L.circleMarker(point, {
        radius: Math.max(3, Math.min(12, 2 + Math.sqrt(p.households))),
        color: p.covered ? "#2e7d32" : "#c62828",
        weight: 1,
        fillOpacity: 0.6
      }).bindTooltip(p.households + " · " + (p.minutes === null ? "—" : p.minutes + " min")));
      bounds.extend(point);
    });
    (data.sites || []).forEach(function (s) {
      var point = L.latLng(s.lat, s.lng);
      var marker = L.circleMarker(point, {
        radius: 8, color: s.open === false ? "#777" : "#b71c1c", weight: 3, fillColor: "#fff", fillOpacity: 1
      }).bindTooltip(s.name || "★");
      if (s.url) {
        marker.on("click", function () { window.location.href = s.url; });
      }
      if (data.reachM) {
        layers.push(L.circle(point, { radius: data.reachM, color: "#b71c1c", weight: 1, fill: false, dashArray: "4 4" }));
      }
      layers.push(marker);
      bounds.extend(point);
    });
    if (data.candidate) {
      layers.push(L.marker(L.latLng(data.candidate[0], data.candidate[1])));
    }
    if (data.center) {
      bounds.extend(L.latLng(data.center[0], data.center[1]));
      layers.push(L.circleMarker(L.latLng(data.center[0], data.center[1]), { radius: 5, color: "#1565c0" }));
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    } else {
      map.setView([35, 105], 4);
    }
    layers.forEach(function (layer) { layer.addTo(map); });
    var lat = document.getElementById("cand-lat");
    var lng = document.getElementById("cand-lng");
    if (lat && lng) {
      map.on("click", function (event) {
        lat.value = event.latlng.lat.toFixed(6);
        lng.value = event.latlng.lng.toFixed(6);
      });
    }
  }

  function start() {
    locateButton();
    draw();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
