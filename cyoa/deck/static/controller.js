// The deck's browser side: keys and clicker, fullscreen, theme, and a heartbeat; and what
// only the browser can do: fit the slide to the window, show or hide the "you are here" map,
// scroll a demo's output. Python owns every decision; this only reports key presses and that
// the page is alive (the kernel's update loop ends by itself when the heartbeats stop).

const ACTIONS = {
  ArrowRight: "next",
  PageDown: "next",
  " ": "next",
  ArrowLeft: "back",
  PageUp: "back",
  c: "close",
  o: "reopen",
  d: "demo",
  t: "theme",
};

const KEY_HELP = [
  ["→ Space PgDn", "next (at an open vote: close it, then follow the winner)"],
  ["← PgUp", "back"],
  ["1-9", "pick that option by hand"],
  ["c / o", "close / reopen the vote"],
  ["d", "run the demo live"],
  ["↑ ↓", "scroll the demo's output"],
  ["m", "show / hide the \u201cyou are here\u201d map"],
  ["t", "dark / light theme"],
  ["f", "fullscreen"],
  ["?", "this help"],
];
const FIT_FLOOR = 0.35; // the smallest type scale before the slide is allowed to overflow
const URL_FLOOR = 0.5;

function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen?.();
  } else {
    document.documentElement.requestFullscreen?.().catch(() => {});
  }
}

// Every box of the slide that holds more than it shows (text taller or wider than its box).
function overflowing(deck) {
  const boxes = deck.querySelectorAll(".jupyter-widgets, .widget-html-content, .cyoa-join > div");
  if (deck.scrollHeight > deck.clientHeight + 1 || deck.scrollWidth > deck.clientWidth + 1) {
    return true;
  }
  for (const box of boxes) {
    if (box.closest(".js-plotly-plot") || box.closest(".cyoa-controller")) continue;
    if (box.offsetParent === null) continue; // not shown
    if (box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1) {
      return true;
    }
  }
  return false;
}

// The URL on one line: its own type shrinks to fit its box (never a line break inside it).
function fitUrls(deck) {
  for (const url of deck.querySelectorAll(".cyoa-url")) {
    url.style.fontSize = "";
    if (url.scrollWidth <= url.clientWidth) continue;
    const scale = Math.max(URL_FLOOR, url.clientWidth / url.scrollWidth - 0.01);
    url.style.fontSize = `${scale * 1.15}em`;
  }
}

// The largest type scale (1 down to FIT_FLOOR) at which nothing overflows: a binary search.
function fitType(deck) {
  deck.style.setProperty("--cyoa-fit", "1");
  fitUrls(deck);
  if (!overflowing(deck)) return 1;
  let low = FIT_FLOOR;
  let high = 1;
  for (let step = 0; step < 7; step++) {
    const middle = (low + high) / 2;
    deck.style.setProperty("--cyoa-fit", String(middle));
    fitUrls(deck);
    if (overflowing(deck)) high = middle;
    else low = middle;
  }
  deck.style.setProperty("--cyoa-fit", String(low));
  fitUrls(deck);
  return low;
}

// Plotly lays a chart out at the size its box had when drawn (hidden, that is no size at all)
// and the widget fixes its height: lay each shown chart out again at its box's real size.
async function fitCharts(deck) {
  const plotly = window.Plotly;
  if (!plotly) return;
  const jobs = [];
  for (const plot of deck.querySelectorAll(".cyoa-chart-box .js-plotly-plot")) {
    if (plot.offsetParent === null || !plot._fullLayout) continue;
    const box = plot.getBoundingClientRect();
    const laid = plot._fullLayout;
    const width = Math.floor(box.width);
    const height = Math.floor(box.height);
    if (Math.abs(laid.width - width) > 1 || Math.abs(laid.height - height) > 1) {
      jobs.push(plotly.relayout(plot, { width, height }));
    }
  }
  await Promise.allSettled(jobs);
}

// A demo's output shows its newest lines (new output, a new size), unless the presenter
// scrolled up to read: then it stays put until they scroll back to the end.
function followDemo(deck) {
  for (const pre of deck.querySelectorAll(".cyoa-demo pre")) {
    const seen = String(pre.textContent.length);
    if (pre.dataset.cyoaSeen !== seen) {
      pre.dataset.cyoaSeen = seen;
      delete pre.dataset.cyoaReading;
    }
    if (!pre.dataset.cyoaReading) pre.scrollTop = pre.scrollHeight;
  }
}

function scrollDemo(direction) {
  const pre = document.querySelector(".cyoa-deck .cyoa-demo pre");
  if (!pre) return false;
  pre.scrollTop += direction * pre.clientHeight * 0.8;
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 2;
  if (atEnd) delete pre.dataset.cyoaReading;
  else pre.dataset.cyoaReading = "1";
  return true;
}

function toggleHelp() {
  const shown = document.querySelector(".cyoa-keyhelp");
  if (shown) {
    shown.remove();
    return;
  }
  const help = document.createElement("div");
  help.className = "cyoa-keyhelp";
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-label", "Keys");
  const rows = KEY_HELP.map(([keys, what]) => {
    const row = document.createElement("tr");
    for (const text of [keys, what]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  const table = document.createElement("table");
  table.append(...rows);
  help.append(table);
  document.body.append(help);
}

// Fit once the page is quiet again (after a burst of widget updates), then mark the slide
// fitted for this window size: tests wait for window.cyoaSettled() before measuring.
function fitter(deck) {
  let frame = 0;
  let running = null;
  const run = async () => {
    frame = 0;
    fitType(deck);
    followDemo(deck);
    mutations.takeRecords(); // the fitter's own style changes are no news
    await fitCharts(deck);
    deck.dataset.cyoaFitted = `${window.innerWidth}x${window.innerHeight}`;
  };
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      running = (running || Promise.resolve()).then(run);
    });
  };
  const outsideCharts = (records) =>
    records.some((r) => !(r.target.closest && r.target.closest(".js-plotly-plot")) &&
      !(r.target.parentElement && r.target.parentElement.closest(".js-plotly-plot")));
  const mutations = new MutationObserver((records) => outsideCharts(records) && schedule());
  mutations.observe(deck, {
    childList: true, subtree: true, characterData: true, attributes: true,
    attributeFilter: ["style", "class"],
  });
  const sizes = new ResizeObserver(schedule);
  sizes.observe(deck);
  for (const box of deck.querySelectorAll(".cyoa-chart-box")) sizes.observe(box);
  window.addEventListener("resize", schedule);
  document.addEventListener("plotlywidget-after-render", schedule); // drawn at 360 px high
  document.fonts?.ready.then(schedule);
  window.cyoaSettled = async () => {
    for (;;) {
      const before = running;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await running;
      if (!frame && running === before) return deck.dataset.cyoaFitted;
    }
  };
  schedule();
  return () => {
    mutations.disconnect();
    sizes.disconnect();
    window.removeEventListener("resize", schedule);
    document.removeEventListener("plotlywidget-after-render", schedule);
  };
}

function render({ model, el }) {
  el.classList.add("cyoa-controller");
  document.body.dataset.cyoaMap = localStorage.getItem("cyoa-map") || "on";
  // The view is put in the page after render(): find the slide it belongs to once it is.
  let deck = null;
  let stopFitting = () => {};
  let tries = 0;
  const attach = () => {
    deck = el.closest(".cyoa-deck");
    if (deck) stopFitting = fitter(deck);
    else if (!el.closest(".cyoa-presenter") && tries++ < 600) requestAnimationFrame(attach);
  };
  attach();
  const applyTheme = () => {
    document.body.dataset.cyoaTheme = model.get("theme");
  };
  const onKey = (event) => {
    const target = event.target;
    if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.key === "f" || event.key === "F") {
      event.preventDefault();
      toggleFullscreen();
      return;
    }
    if (event.key === "m" || event.key === "M") {
      event.preventDefault();
      const hidden = document.body.dataset.cyoaMap === "off";
      document.body.dataset.cyoaMap = hidden ? "on" : "off";
      localStorage.setItem("cyoa-map", document.body.dataset.cyoaMap);
      return;
    }
    if (event.key === "?" || event.key === "h") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && deck) {
      if (scrollDemo(event.key === "ArrowUp" ? -1 : 1)) event.preventDefault();
      return;
    }
    let action = ACTIONS[event.key] || ACTIONS[event.key.toLowerCase()];
    if (/^[1-9]$/.test(event.key)) action = "pick:" + event.key;
    if (!action) return;
    event.preventDefault();
    model.send({ type: "key", action, sent: Date.now() });
  };
  const beat = () => model.send({ type: "beat" });
  model.on("change:theme", applyTheme);
  applyTheme();
  document.addEventListener("keydown", onKey);
  const timer = setInterval(beat, 1000);
  beat();
  return () => {
    clearInterval(timer);
    stopFitting();
    document.removeEventListener("keydown", onKey);
  };
}

export default { render };
