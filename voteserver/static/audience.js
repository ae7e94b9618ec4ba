/* The audience page, upgraded: live updates and votes without reloading.
   Without this file the page still works (plain form posts and a self-refresh). The server
   renders every structure; this script only swaps the page when a poll opens or closes and
   updates choices and counts in place, so focus and screen readers are not disturbed. */
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) return;
  var LIVE = "/api/live", VOTE = "/vote", PAGE = "/";
  /* FAST: the feed is asked every 1.2-1.8 s, so an opening reaches 95 % of phones within
     2 s (the wait for a phone's next ask is at most its delay). CALM: an open poll that hides
     its results has only its close to tell. SLOW: the page is hidden, or the server fails. */
  var FAST = 1500, CALM = 4000, SLOW = 10000;
  var timer = null, failures = 0, inflight = false;
  var deadline = null, clock = null, asked = false; /* the open poll's time limit */
  var current = JSON.parse(document.getElementById("live").textContent);

  function $(id) { return document.getElementById(id); }
  function text(el, value) { if (el && el.textContent !== value) el.textContent = value; }
  function keyOf(d) { return d.status + ":" + (d.poll ? d.poll.id : ""); }
  function label(d, key) {
    var opts = d.poll ? d.poll.options : [];
    for (var i = 0; i < opts.length; i++) if (opts[i].key === key) return opts[i].label;
    return key;
  }
  function announce(message) { text($("announce"), message); }

  function flash(kind, message) {
    var el = $("flash");
    if (!el) return;
    el.className = "flash " + kind;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    text(el, message);
    el.hidden = !message;
  }

  function confirmChoice(d, lead) {
    var app = $("app"), el = $("confirm");
    if (!el) return;
    if (!d.choice) { text(el, ""); app.dataset.choice = ""; return; }
    if (!lead && app.dataset.choice === d.choice && el.textContent) return;
    app.dataset.choice = d.choice;
    el.textContent = "";
    el.appendChild(document.createTextNode((lead || "You chose") + " “"));
    var b = document.createElement("b");
    b.textContent = label(d, d.choice);
    el.appendChild(b);
    el.appendChild(document.createTextNode(
      "”." + (d.status === "open" ? " You can change it until voting closes." : "")));
  }

  function update(d) {
    var buttons = document.querySelectorAll("button[name=choice]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", String(buttons[i].value === d.choice));
    }
    confirmChoice(d);
    var section = $("results");
    if (!section) return;
    var r = d.results;
    if (r && d.status === "open" && !d.choice) r = null; /* counts show once this phone votes */
    section.hidden = !r;
    if (!r) return;
    var rows = section.querySelectorAll("li[data-key]");
    for (var j = 0; j < rows.length; j++) {
      var k = rows[j].getAttribute("data-key"), votes = r.votes[k] || 0;
      var pct = r.total ? Math.round(100 * votes / r.total) : 0;
      text(rows[j].querySelector(".rc"), votes + " (" + pct + "%)");
      var bar = rows[j].querySelector("progress");
      bar.max = r.total || 1;
      bar.value = votes;
    }
    text(section.querySelector(".total b"), String(r.total));
    text(section.querySelector(".total span"), r.total === 1 ? "vote" : "votes");
  }

  function swapPage(d, quiet) {
    /* A poll opened or closed (or the cookie expired): take the server's fresh page. */
    return fetch(PAGE, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) { if (!res.ok) throw res; return res.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("app"), meta = doc.querySelector("meta[name=csrf]");
        if (!fresh) return;
        $("app").replaceWith(document.importNode(fresh, true));
        if (meta) document.querySelector("meta[name=csrf]").content = meta.content;
        document.title = doc.title;
        if (quiet) return;
        if (d.status === "open") announce("Voting is open: " + d.poll.question);
        else if (d.status === "closed") announce("Voting has closed.");
        else if (d.status === "end") announce("The end. This page links to the whole story.");
        else announce("Waiting for the next decision.");
      });
  }

  function showLeft() {
    /* Seconds left of the time limit; at 0, ask the server (it closes the vote itself). */
    var el = $("countdown");
    if (deadline === null) return;
    var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    if (el) {
      text(el.querySelector("b"), String(left));
      text(el.querySelector("span"), left === 1 ? "second" : "seconds");
    }
    if (left === 0 && !asked) { asked = true; schedule(300); }
  }

  function countdown(d) {
    /* The server says how many seconds are left at each answer: count down from there, on
       this phone's own clock (its time of day may be off; its seconds are not). */
    asked = false;
    if (d.status === "open" && d.poll && d.poll.closes_in !== null &&
        d.poll.closes_in !== undefined) {
      deadline = performance.now() + 1000 * d.poll.closes_in;
      if (!clock) clock = setInterval(showLeft, 250);
      showLeft();
    } else {
      deadline = null;
      clearInterval(clock);
      clock = null;
    }
  }

  function apply(d) {
    /* The feed is the same for every phone: this phone's choice is its own, kept on the page
       (the server renders it; a vote sets it). */
    if (d.choice === undefined) d.choice = $("app").dataset.choice || "";
    current = d;
    countdown(d);
    if (keyOf(d) !== $("app").dataset.key) return swapPage(d).then(showLeft);
    update(d);
  }

  function refresh() {
    return fetch(LIVE, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { if (!res.ok) throw res; return res.json(); })
      .then(function (d) { failures = 0; return apply(d); });
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (delay === undefined) {
      var open = current.status === "open" && current.poll;
      var base = open && current.poll.hide_results ? CALM : FAST;
      delay = document.hidden ? SLOW : Math.min(SLOW, base * Math.pow(2, failures));
      delay *= 0.8 + 0.4 * Math.random(); /* spread a room's phones apart */
    }
    timer = setTimeout(tick, delay);
  }

  function tick() {
    if (inflight) return schedule();
    inflight = true;
    refresh()
      .catch(function () { failures = Math.min(failures + 1, 3); })
      .then(function () { inflight = false; schedule(); });
  }

  var LEADS = { counted: "Vote counted:", changed: "Vote changed to", unchanged: "You chose" };

  function send(poll, choice, attempt) {
    var body = new URLSearchParams();
    body.set("poll", poll);
    body.set("choice", choice);
    body.set("csrf", document.querySelector("meta[name=csrf]").content);
    var answered = false; /* only a vote that got no answer is sent again */
    return fetch(VOTE, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: body
    }).then(function (res) {
      return res.json().then(function (data) {
        answered = true;
        var message = data.error || "Your vote was not counted.";
        if (res.ok) {
          var d = { status: "open", poll: current.poll, choice: choice, results: current.results };
          flash("", "");
          update(d);
          confirmChoice(d, LEADS[data.outcome] || "You chose");
          if ($("confirm")) $("confirm").focus(); /* a screen reader reads what was counted */
          return tick();
        }
        if (res.status === 403) {
          return swapPage(current, true).then(function () { flash("error", message); });
        }
        flash("error", message);
        return tick();
      });
    }).catch(function () {
      if (answered) return;
      if (attempt < 3) {
        return new Promise(function (ok) { setTimeout(ok, 700 * (attempt + 1)); })
          .then(function () { return send(poll, choice, attempt + 1); });
      }
      flash("error", "Not sent: no connection to the vote server. Please tap again.");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter;
    if (!form.classList.contains("choices") || !button || !button.value) return;
    event.preventDefault();
    button.setAttribute("aria-busy", "true");
    send(form.elements.poll.value, button.value, 0).then(function () {
      button.removeAttribute("aria-busy");
    });
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedule(0);
  });

  countdown(current);
  schedule();
})();
