/* Delivery funnel: an inline SVG bar chart drawn from the numbers of its <table>.
 * The table stays the accessible source of truth; the SVG repeats it visually
 * (role="img" with a <title> listing the same numbers). No library, no CDN. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = { recipients: "#2e5b8a", handed_over: "#5b8fc7", delivered: "#2e8540" };

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function rowsOf(table) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      return {
        key: row.dataset.key,
        label: row.cells[0].textContent.trim(),
        count: Number(row.querySelector("[data-count]").dataset.count),
        percent: Number(row.querySelector("[data-percent]").dataset.percent),
        shown: row.querySelector("[data-count]").textContent.trim()
      };
    });
  }

  function draw(svg, table) {
    var rows = rowsOf(table);
    var title = svg.querySelector("title");
    var labelHeight = 18, barHeight = 22, gap = 12, width = 400, valueRoom = 110;
    var step = labelHeight + barHeight + gap;
    var max = Math.max.apply(null, rows.map(function (r) { return r.count; }).concat([1]));
    svg.setAttribute("viewBox", "0 0 " + width + " " + rows.length * step);
    Array.prototype.slice.call(svg.childNodes).forEach(function (node) {
      if (node !== title) svg.removeChild(node);
    });
    title.textContent = title.textContent.split(":")[0] + ": " +
      rows.map(function (r) { return r.label + " " + r.shown; }).join(", ");
    rows.forEach(function (row, index) {
      var y = index * step;
      var barWidth = Math.max(row.count ? 2 : 0, (width - valueRoom) * row.count / max);
      svg.appendChild(el("text", { x: 0, y: y + 13, "class": "ph-funnel-label" }, row.label));
      svg.appendChild(el("rect", {
        x: 0, y: y + labelHeight, width: barWidth, height: barHeight, rx: 3,
        fill: COLOURS[row.key] || "#2e5b8a", "data-key": row.key
      }));
      svg.appendChild(el("text", {
        x: barWidth + 8, y: y + labelHeight + 16, "class": "ph-funnel-value"
      }, row.shown + " (" + row.percent.toLocaleString(document.documentElement.lang || undefined) + " %)"));
    });
  }

  function drawAll() {
    document.querySelectorAll("svg[data-chart-for]").forEach(function (svg) {
      var table = document.getElementById(svg.dataset.chartFor);
      if (table) draw(svg, table);
    });
  }

  window.PartnerHubChart = { draw: draw, drawAll: drawAll };
  document.addEventListener("DOMContentLoaded", drawAll);
})();
