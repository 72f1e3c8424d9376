/* The report form's map pick: a click puts a marker and fills the hidden lat/lng
 * inputs. No tiles unless the deployment configures them (data-tile-url). */
(function () {
  "use strict";
  function init() {
    var holder = document.getElementById("appeal-map");
    if (!holder || typeof L === "undefined") {
      return;
    }
    var lat = document.getElementById("id_lat");
    var lng = document.getElementById("id_lng");
    var start = [Number(holder.dataset.lat || 30), Number(holder.dataset.lng || 110)];
    var map = L.map(holder, { attributionControl: false }).setView(start, 14);
    if (holder.dataset.tileUrl) {
      L.tileLayer(holder.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var marker = null;
    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng).addTo(map);
      }
      lat.value = latlng.lat.toFixed(6);
      lng.value = latlng.lng.toFixed(6);
    }
    if (lat.value && lng.value) {
      place(L.latLng(Number(lat.value), Number(lng.value)));
    }
    map.on("click", function (event) {
      place(event.latlng);
    });
    var locate = document.getElementById("appeal-locate");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
          map.setView(here, 17);
          place(here);
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
