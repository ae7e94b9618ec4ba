// The presenter view's own keys, on top of the deck's (controller.js: arrows, 1-9, c, o, d,
// t, f). Python decides what each action does; "g" and Enter (focus the jump list, press
// its button) and j/k (scroll the notes) stay in the page: no kernel round trip.
// It also fits the speaker notes to their box: the largest type from 26 px down to 16 px
// that shows them whole; longer notes scroll (j/k).

const ACTIONS = { R: "reset", z: "clock", l: "lift-cap", x: "discard-selected" };
const NOTES_LARGEST = 26;
const NOTES_SMALLEST = 16;

function fitNotes(state) {
  const box = document.querySelector(".cyoa-pv-notes");
  const notes = box?.querySelector(".cyoa-notes");
  if (!notes) return;
  const key = `${notes.innerHTML}|${box.clientWidth}x${box.clientHeight}`;
  if (key === state.key) return;
  state.key = key;
  let size = NOTES_LARGEST;
  notes.style.fontSize = `${size}px`;
  while (size > NOTES_SMALLEST && box.scrollHeight > box.clientHeight) {
    size -= 1;
    notes.style.fontSize = `${size}px`;
  }
}

function render({ model, el }) {
  el.classList.add("cyoa-controller");
  const onKey = (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    const jump = document.querySelector(".cyoa-jump select");
    if (target === jump) {
      if (event.key === "Enter") {
        event.preventDefault();
        document.querySelector(".cyoa-jump-go")?.click();
        jump.blur();
      } else if (event.key === "Escape") {
        jump.blur();
      }
      return;
    }
    if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    const notes = document.querySelector(".cyoa-pv-notes");
    if ((event.key === "j" || event.key === "k") && notes) {
      event.preventDefault();
      notes.scrollBy({ top: (event.key === "j" ? 0.8 : -0.8) * notes.clientHeight });
      return;
    }
    if (event.key === "g" && jump) {
      event.preventDefault();
      jump.focus();
      return;
    }
    const action = ACTIONS[event.key];
    if (!action) return;
    event.preventDefault();
    model.send({ type: "key", action });
  };
  document.addEventListener("keydown", onKey);
  const fitted = { key: "" };
  let queued = false;
  const refit = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fitNotes(fitted);
    });
  };
  const observer = new MutationObserver(refit);
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  window.addEventListener("resize", refit);
  refit();
  return () => {
    document.removeEventListener("keydown", onKey);
    window.removeEventListener("resize", refit);
    observer.disconnect();
  };
}

export default { render };
