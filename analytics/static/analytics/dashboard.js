/* The dashboard's charts, drawn by Chart.js (vendor/chartjs) from the figures the page carries in its
   #analytics-charts JSON (analytics/dashboard.py): no request of their own. Colours follow the admin's theme
   (light or dark); animation is left out for people who ask for reduced motion. */
"use strict";

(function () {
  const PALETTE = {line: "#2f80c1", fill: "rgba(47, 128, 193, 0.14)", bar: "#e0803a", barHover: "#c8651f"};

  function themeColour(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  function bucketLabel(isoStart, bucket) {
    const moment = new Date(isoStart);
    const day = {day: "numeric", month: "short", timeZone: "UTC"};
    if (bucket === "hour") {
      return moment.toLocaleString("en-GB", {...day, hour: "2-digit", minute: "2-digit", hour12: false});
    }
    const text = moment.toLocaleDateString("en-GB", day);
    return bucket === "week" ? "week of " + text : text;
  }

  function percent(value) {
    return (100 * value).toFixed(1) + " %";
  }

  function commonOptions() {
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const grid = themeColour("--hairline-color", "#e8e8e8");
    const text = themeColour("--body-quiet-color", "#666");
    Chart.defaults.color = text;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : {duration: 500},
      plugins: {legend: {display: false}},
      scales: {
        x: {grid: {display: false}, border: {color: grid}, ticks: {maxRotation: 0, autoSkipPadding: 12}},
        y: {beginAtZero: true, grid: {color: grid}, border: {display: false}},
      },
    };
  }

  function searchesChart(canvas, series) {
    const options = commonOptions();
    options.scales.y.ticks = {precision: 0};
    options.plugins.tooltip = {callbacks: {label: (item) => item.formattedValue + " searches"}};
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: series.points.map((point) => bucketLabel(point.start, series.bucket)),
        datasets: [{
          label: "Searches",
          data: series.points.map((point) => point.searches),
          borderColor: PALETTE.line,
          backgroundColor: PALETTE.fill,
          pointBackgroundColor: PALETTE.line,
          pointRadius: series.points.length > 60 ? 0 : 3,
          fill: true,
          cubicInterpolationMode: "monotone",
        }],
      },
      options: options,
    });
  }

  function ctrChart(canvas, byRank) {
    const options = commonOptions();
    options.scales.x.title = {display: true, text: "rank"};
    options.scales.y.ticks = {callback: (value) => percent(value)};
    options.plugins.tooltip = {
      callbacks: {
        label: (item) => {
          const rank = byRank.ranks[item.dataIndex];
          return percent(rank.ctr) + " (" + rank.clicks + " clicks / " + rank.impressions + " impressions)";
        },
      },
    };
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: byRank.ranks.map((rank) => String(rank.rank)),
        datasets: [{
          label: "Click-through rate",
          data: byRank.ranks.map((rank) => rank.ctr),
          backgroundColor: PALETTE.bar,
          hoverBackgroundColor: PALETTE.barHover,
          borderRadius: 4,
          maxBarThickness: 36,
        }],
      },
      options: options,
    });
  }

  function submitOnOrganisationChange() {
    const select = document.getElementById("analytics-org");
    if (select) {
      select.addEventListener("change", () => select.form.submit());
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    submitOnOrganisationChange();
    const data = document.getElementById("analytics-charts");
    if (!data) {
      return;
    }
    const charts = JSON.parse(data.textContent);
    searchesChart(document.getElementById("searches-chart"), charts.searchesOverTime);
    ctrChart(document.getElementById("ctr-chart"), charts.ctrByRank);
  });
})();
