/* The audience page, upgraded: live updates and votes without reloading.
   Without this file the page still works (plain form posts and a self-refresh). The server
   renders every structure: the page, and <template>s of each state from the same markup.
   When a poll opens or closes this script draws it from the feed's answer with those
   templates (no page load: a room of phones fetching the page at once queued the votes
   behind it, bench/README.md "Rooms"), and updates choices and counts in place, so focus
   and screen readers are not disturbed. It fetches the page only when it must: its cookie
   or CSRF token was refused, or the feed says something it cannot draw. */
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
  /* The page's templates of each state, rendered by the server from the page's own macros
     (audience.html) and put on the next line when it serves this file (audience.py). */
  var DRAWN = "";
  var drawn = null; /* DRAWN, parsed at the first draw */
  /* The poll this phone last saw open: the feed shows it as closed, with its results, once
     nothing is open (the page's cyoa_poll cookie does the same for a page load). */
  var remembered = current.poll ? current.poll.id : "";

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

  function tell(d) {
    if (d.status === "open") announce("Voting is open: " + d.poll.question);
    else if (d.status === "closed") announce("Voting has closed.");
    else if (d.status === "end") announce("The end. This page links to the whole story.");
    else announce("Waiting for the next decision.");
  }

  function swapPage(d, quiet) {
    /* The cookie or CSRF token was refused, or the feed says what no template draws: take
       the server's fresh page (a new cookie and token; its own view of the talk). */
    return fetch(PAGE, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) { if (!res.ok) throw res; return res.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("app"), meta = doc.querySelector("meta[name=csrf]");
        var live = doc.getElementById("live");
        if (!fresh) return;
        $("app").replaceWith(document.importNode(fresh, true));
        if (meta) document.querySelector("meta[name=csrf]").content = meta.content;
        document.title = doc.title;
        if (live) {
          current = JSON.parse(live.textContent);
          if (current.poll) remembered = current.poll.id;
          countdown(current);
        }
        if (!quiet) tell(d);
      });
  }

  function clone(name) {
    /* A template's copy; its form controls' names are data-field there (audience.html). */
    if (!drawn) {
      drawn = document.createElement("template");
      drawn.innerHTML = DRAWN;
    }
    var template = drawn.content ? drawn.content.getElementById("draw-" + name) : null;
    if (!template || !template.content) return null;
    var copy = template.content.cloneNode(true), named = copy.querySelectorAll("[data-field]");
    for (var i = 0; i < named.length; i++) {
      named[i].setAttribute("name", named[i].getAttribute("data-field"));
      named[i].removeAttribute("data-field");
    }
    return copy;
  }

  function smsKeys(count) {
    /* " 1, 2 or 3": the digits a text may hold, as the server writes them. */
    var keys = document.createDocumentFragment();
    for (var i = 1; i <= count; i++) {
      keys.appendChild(document.createTextNode(" "));
      var b = document.createElement("b");
      b.textContent = String(i);
      keys.appendChild(b);
      if (i < count - 1) keys.appendChild(document.createTextNode(","));
      else if (i === count - 1) keys.appendChild(document.createTextNode(" or"));
    }
    return keys;
  }

  function fillPoll(view, d) {
    /* The question, a button and a result row per option, from the row templates. */
    var poll = d.poll, results = d.results, i;
    text(view.querySelector("#question"), poll.question);
    var note = view.querySelector(".hidden-note");
    if (note && !poll.hide_results) note.remove();
    var timer = view.querySelector("#countdown");
    if (timer && (poll.closes_in === null || poll.closes_in === undefined)) timer.remove();
    var form = view.querySelector("form.choices");
    if (form) {
      form.elements.poll.value = poll.id;
      form.elements.csrf.value = document.querySelector("meta[name=csrf]").content;
      for (i = 0; i < poll.options.length; i++) {
        var button = clone("choice").querySelector("button");
        button.value = poll.options[i].key;
        text(button.querySelector(".num"), String(i + 1));
        text(button.querySelector(".label"), poll.options[i].label);
        form.appendChild(button);
      }
    }
    var list = view.querySelector("#results ul");
    for (i = 0; i < poll.options.length; i++) {
      var row = clone("result").querySelector("li"), key = poll.options[i].key;
      row.setAttribute("data-key", key);
      var name = row.querySelector(".rl");
      name.insertBefore(document.createTextNode(poll.options[i].label), name.firstChild);
      if (!results || results.winner !== key) {
        row.removeAttribute("class"); /* "winner", the template's only class */
        row.querySelector(".win").remove();
      }
      list.appendChild(row);
    }
    var keys = view.querySelector(".sms .keys");
    if (keys) keys.appendChild(smsKeys(poll.options.length));
  }

  function fillEnd(view, end) {
    var link = view.querySelector(".story-link");
    text(view.querySelector(".ending-name"), end.ending);
    text(view.querySelector(".story-title"), end.title);
    /* the server's own path; anything else would be a link off the vote server */
    link.setAttribute("href", /^\/[^\/\\]/.test(end.url || "") ? end.url : "/story/");
  }

  function draw(d) {
    /* Draw the state the feed describes from the page's templates; false when it cannot
       (then the page is fetched). The phone's choice stays when the same poll closes. */
    var polled = d.status === "open" || d.status === "closed";
    var described = polled ? Boolean(d.poll && d.poll.options)
      : d.status === "end" ? Boolean(d.end) : d.status === "waiting";
    var view = described ? clone(d.status) : null;
    if (!view || (polled && !(clone("choice") && clone("result")))) return false;
    if (polled) fillPoll(view, d);
    else if (d.status === "end") fillEnd(view, d.end);
    var app = $("app"), samePoll = polled && app.dataset.key.split(":")[1] === d.poll.id;
    while (app.firstChild) app.removeChild(app.firstChild);
    app.appendChild(view);
    app.dataset.key = keyOf(d);
    if (!samePoll) app.dataset.choice = "";
    d.choice = app.dataset.choice;
    document.title = d.status === "open" ? "Vote: " + d.poll.question
      : d.status === "end" ? "The end" : "Vote";
    tell(d);
    return true;
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
    if (d.status === "open" && d.poll) remembered = d.poll.id;
    current = d;
    if (keyOf(d) !== $("app").dataset.key && !draw(d)) {
      countdown(d);
      return swapPage(d).then(showLeft);
    }
    countdown(d);
    update(d);
  }

  function refresh() {
    var url = remembered ? LIVE + "?poll=" + encodeURIComponent(remembered) : LIVE;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
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
        if (res.status === 403 && (data.code === "expired" || !data.code)) {
          /* the cookie or CSRF token was refused: a fresh page brings new ones */
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
