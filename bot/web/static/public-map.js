// The public page's map: progressive enhancement over the list. The markers are in the
// page (a JSON script tag; the CSP allows no inline script). Tiles only when the operator
// set a tile server; otherwise the markers stand on a blank map.
(function () {
  "use strict";
  var box = document.getElementById("map");
  var source = document.getElementById("map-data");
  if (!box || !source || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  if (!data.markers.length && !data.area) { return; }
  box.hidden = false;
  L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
  var map = L.map(box, { scrollWheelZoom: false });
  if (data.tiles) {
    L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
  }
  var points = [];
  data.markers.forEach(function (m) {
    var label = m.ref + " · " + m.category + " · " + m.status + (m.street ? " · " + m.street : "");
    var marker = L.marker([m.lat, m.lon], { title: label, alt: label }).addTo(map);
    var text = document.createElement("span");
    text.textContent = label;  // text, never HTML
    marker.bindPopup(text);
    points.push([m.lat, m.lon]);
  });
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 17 });
  } else {
    map.fitBounds([[data.area[0], data.area[1]], [data.area[2], data.area[3]]]);
  }
}());
