// The pool dashboard's refresh (health/admin.py): every few seconds, fetch the figures as JSON
// (same origin, the admin's session cookie) and put each one into the element that names its key;
// draw the last minutes of each chart series as a polyline. A file, not an inline script: the
// Content-Security-Policy (verisyntra/csp.py) runs scripts from this service's files only.
(function () {
  "use strict";
  const HISTORY = 60; // samples kept per chart
  const history = {};

  function root() {
    return document.querySelector(".pool-dashboard-main");
  }

  function setStatus(element, status) {
    element.classList.remove("status-healthy", "status-warning", "status-critical");
    element.classList.add("status-" + status);
  }

  function draw(figure, samples) {
    const line = figure.querySelector("polyline");
    const latest = figure.querySelector(".latest");
    if (!samples.length) return;
    const top = Math.max(1, ...samples);
    const step = samples.length > 1 ? 240 / (HISTORY - 1) : 0;
    const start = 240 - step * (samples.length - 1);
    line.setAttribute(
      "points",
      samples.map((value, i) => `${(start + i * step).toFixed(1)},${(58 - (value / top) * 56).toFixed(1)}`).join(" ")
    );
    const last = samples[samples.length - 1];
    latest.textContent = Number.isInteger(last) ? String(last) : last.toFixed(1);
  }

  // Charted as a rate: counters only grow, their slope is what changes under load.
  function chartValue(key, value, seconds, previous) {
    if (!key.endsWith(".checkouts")) return value;
    if (previous === undefined || seconds <= 0) return 0;
    return Math.max(0, (value - previous) / seconds);
  }

  const lastRaw = {};
  let lastTime = null;

  function apply(data) {
    const main = root();
    for (const [key, text] of Object.entries(data.values)) {
      main.querySelectorAll(`[data-value="${CSS.escape(key)}"]`).forEach((element) => {
        element.textContent = text;
      });
    }
    for (const [key, status] of Object.entries(data.statuses)) {
      main.querySelectorAll(`[data-status="${CSS.escape(key)}"]`).forEach((element) => setStatus(element, status));
    }
    for (const [name, lines] of Object.entries(data.lists)) {
      const list = main.querySelector(`[data-list="${CSS.escape(name)}"]`);
      if (!list) continue;
      list.replaceChildren(
        ...lines.map((line) => {
          const item = document.createElement("li");
          item.textContent = line;
          return item;
        })
      );
    }
    const now = performance.now();
    const seconds = lastTime === null ? 0 : (now - lastTime) / 1000;
    for (const [key, value] of Object.entries(data.series)) {
      const samples = (history[key] = history[key] || []);
      samples.push(chartValue(key, value, seconds, lastRaw[key]));
      if (samples.length > HISTORY) samples.shift();
      lastRaw[key] = value;
      const figure = main.querySelector(`[data-series="${CSS.escape(key)}"]`);
      if (figure) draw(figure, samples);
    }
    lastTime = now;
    document.getElementById("last-refresh").textContent = new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  async function refresh() {
    const main = root();
    try {
      const response = await fetch(main.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) apply(await response.json());
    } catch (error) {
      // The next refresh tries again; the page keeps the last figures meanwhile.
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const main = root();
    if (!main) return;
    refresh();
    setInterval(refresh, 1000 * Number(main.dataset.refreshSeconds || 3));
  });
})();
