// The reports page's charts. Each chart draws the table beside it (table[data-chart] names its
// canvas): the row headers are the labels, each column after the first a series, each cell's
// data-value its number. The server wrote the numbers and every word; this only draws them.
import "/vendor/chart.umd.min.js";

const { Chart } = globalThis;

// A colour token as the browser resolved it: the custom property itself holds light-dark(…),
// which the canvas cannot parse, so a hidden probe element computes it for the current scheme.
function colour(name) {
  const probe = document.createElement("span");
  probe.hidden = true;
  probe.style.color = `var(${name})`;
  document.body.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved;
}

function tableData(table) {
  const series = [...table.querySelectorAll("thead th")].slice(1).map((th) => th.textContent.trim());
  const rows = [...table.querySelectorAll("tbody tr")];
  return {
    labels: rows.map((row) => row.querySelector("th").textContent.trim()),
    series: series.map((name, column) => ({
      name,
      values: rows.map((row) => Number(row.querySelectorAll("td")[column].dataset.value)),
    })),
  };
}

function draw(table) {
  const canvas = document.getElementById(table.dataset.chart);
  if (!canvas) return;
  const { labels, series } = tableData(table);
  const palette = [colour("--accent"), colour("--ok")];
  const text = colour("--text");
  const grid = colour("--border");
  canvas.chart = new Chart(canvas, {
    type: table.dataset.chartType || "bar",
    data: {
      labels,
      datasets: series.map((one, n) => ({
        label: one.name, data: one.values, backgroundColor: palette[n % palette.length],
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      color: text,
      plugins: { legend: { display: series.length > 1, labels: { color: text } } },
      scales: {
        x: { ticks: { color: text }, grid: { color: grid } },
        y: { beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
      },
    },
  });
  canvas.dataset.drawn = "true"; // for whoever waits for the charts (the browser tests)
}

for (const table of document.querySelectorAll("table[data-chart]")) draw(table);
