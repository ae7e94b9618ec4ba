// The deck's browser side: keys and clicker, fullscreen, theme, and a heartbeat.
// Python owns every decision; this only reports key presses and that the page is alive
// (the kernel's update loop ends by itself when the heartbeats stop).

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

function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen?.();
  } else {
    document.documentElement.requestFullscreen?.().catch(() => {});
  }
}

function render({ model, el }) {
  el.classList.add("cyoa-controller");
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
    document.removeEventListener("keydown", onKey);
  };
}

export default { render };
