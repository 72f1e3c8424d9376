/* The report form's map pick. The compounds and villages of the place list are drawn as
 * dots (there are no tiles unless the deployment configures data-tile-url, so the dots
 * are the map): a tap on a dot chooses that place in the list; a tap elsewhere puts the
 * pin there and chooses the nearest place within a kilometre, or none (the server then
 * finds the place from the point). Choosing in the list moves the map and the pin. */
(function () {
  "use strict";
  var NEAR_M = 1000;
  var AROUND_M = 1500;
  function init() {
    var holder = document.getElementById("appeal-map");
    if (!holder || typeof L === "undefined") {
      return;
    }
    var lat = document.getElementById("id_lat");
    var lng = document.getElementById("id_lng");
    var select = document.getElementById("id_unit");
    var data = document.getElementById("appeal-places");
    var places = [];
    try {
      places = JSON.parse(data ? data.textContent : "[]") || [];
    } catch (e) {
      places = [];
    }
    if (!Array.isArray(places)) {
      places = [];
    }
    var byId = {};
    places.forEach(function (p) {
      byId[String(p[0])] = p;
    });
    var map = L.map(holder, { attributionControl: false });
    if (holder.dataset.tileUrl) {
      L.tileLayer(holder.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var dots = L.layerGroup().addTo(map);
    places.forEach(function (p) {
      L.circleMarker([p[2], p[3]], { radius: 7, color: "#7f1414", weight: 2, fillOpacity: 0.35 })
        .bindTooltip(p[1])
        .on("click", function (event) {
          L.DomEvent.stopPropagation(event);
          choose(p, true);
        })
        .addTo(dots);
    });
    var marker = null;
    function pin(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng).addTo(map);
      }
      lat.value = latlng.lat.toFixed(6);
      lng.value = latlng.lng.toFixed(6);
    }
    function choose(p, withPin) {
      if (select) {
        select.value = String(p[0]);
      }
      if (withPin) {
        pin(L.latLng(p[2], p[3]));
      }
    }
    function nearest(latlng) {
      var best = null;
      var bestM = NEAR_M;
      places.forEach(function (p) {
        var m = latlng.distanceTo(L.latLng(p[2], p[3]));
        if (m <= bestM) {
          best = p;
          bestM = m;
        }
      });
      return best;
    }
    // Start where the form already points: the pin, the chosen place, else all places.
    var chosen = select && byId[select.value];
    if (lat.value && lng.value) {
      pin(L.latLng(Number(lat.value), Number(lng.value)));
      map.setView(marker.getLatLng(), 16);
    } else if (chosen) {
      // The chosen place with its neighbours, so that the one next door is a tap away.
      var here = L.latLng(chosen[2], chosen[3]);
      var around = places.filter(function (p) {
        return here.distanceTo(L.latLng(p[2], p[3])) <= AROUND_M;
      });
      map.fitBounds(L.latLngBounds(around.map(function (p) { return [p[2], p[3]]; })), {
        maxZoom: 16,
        padding: [24, 24],
      });
    } else if (places.length) {
      map.fitBounds(L.latLngBounds(places.map(function (p) { return [p[2], p[3]]; })), { maxZoom: 15 });
    } else {
      map.setView([Number(holder.dataset.lat || 30), Number(holder.dataset.lng || 110)], 12);
    }
    map.on("click", function (event) {
      pin(event.latlng);
      var p = nearest(event.latlng);
      if (select) {
        select.value = p ? String(p[0]) : "";
      }
    });
    if (select) {
      select.addEventListener("change", function () {
        var p = byId[select.value];
        if (p) {
          map.setView([p[2], p[3]], 16);
          pin(L.latLng(p[2], p[3]));
        }
      });
    }
    var locate = document.getElementById("appeal-locate");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
          map.setView(here, 17);
          pin(here);
          var p = nearest(here);
          if (select) {
            select.value = p ? String(p[0]) : "";
          }
        });
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
