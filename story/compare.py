"""Every audience of one story, compared: which way each talk went at each decision.

``cyoa results --all`` and the vote server's ``/results/all`` page both draw from here: a
Plotly Sankey diagram of the paths all talks took (decision by decision, each link as wide
as the number of talks that went that way) and each talk's own path. Plotly's JavaScript
comes from the ``plotly`` package itself, so the page needs no network.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cyoa.story.model import Story
from cyoa.story.results import Results

TEMPLATES = Path(__file__).resolve().parent / "templates"
NODE_PAD = 30  # px between two nodes of a column: room for a label of two lines
ROW_HEIGHT = 80  # px of diagram per node of its fullest column (600 px at least)


@dataclass(frozen=True)
class Pick:
    """One decision a talk made: where, what the room chose, and the votes behind it."""

    scene: str
    question: str
    label: str
    votes: int | None
    total: int | None


@dataclass(frozen=True)
class TalkPath:
    """One talk's way through the story, its decisions only, and where it stopped."""

    talk: str
    picks: tuple[Pick, ...]
    stop: str  # the last scene: an ending, or where the talk stopped
    ended: bool


@dataclass(frozen=True)
class Flow:
    """The Sankey's nodes and links: a node per choice made or ending, a link per step."""

    labels: tuple[str, ...]
    sources: tuple[int, ...]
    targets: tuple[int, ...]
    values: tuple[int, ...]
    hovers: tuple[str, ...]
    questions: tuple[str, ...] = ()  # each node's decision, shown on hover
    columns: tuple[int, ...] = ()  # each node's column, as Plotly lays them out


def columns(count: int, links: list[tuple[int, int]]) -> list[int]:
    """Each node's column as Plotly's Sankey places it (d3-sankey, justified): its longest
    way from a first choice, every ending in the last column. Only sizes the diagram."""
    depth = [0] * count
    for _ in range(count):  # links always go forward (a node per visit): count rounds settle
        changed = False
        for source, target in links:
            if depth[target] < depth[source] + 1:
                depth[target], changed = depth[source] + 1, True
        if not changed:
            break
    last = max(depth, default=0)
    leads = {source for source, _ in links}
    return [d if node in leads else last for node, d in enumerate(depth)]


def talk_path(story: Story, results: Results) -> TalkPath:
    """The decisions of ``results``'s path, each with the option whose goto the talk took."""
    picks: list[Pick] = []
    path = results.path
    for here, there in itertools.pairwise(path):
        scene = story.by_id[here]
        if not scene.choice:
            continue
        option = next((o for o in scene.choice.options if o.goto == there), None)
        poll = results.poll_for(here)
        votes = poll.share(option.key)[0] if poll and option else None
        picks.append(
            Pick(
                scene=here,
                question=scene.choice.question,
                label=option.label if option else story.by_id[there].title,
                votes=votes,
                total=poll.total if poll else None,
            )
        )
    stop = path[-1] if path else story.start
    return TalkPath(results.talk or "(unnamed talk)", tuple(picks), stop, _is_end(story, stop))


def _is_end(story: Story, scene_id: str) -> bool:
    scene = story.by_id.get(scene_id)
    return scene is not None and (scene.ending is not None or not scene.targets)


def flow(story: Story, talks: list[TalkPath]) -> Flow:
    """Nodes: each option a talk chose, by decision (a column per decision), then where the
    talk ended; a node per visit, so a talk that looped back still flows one way. Links:
    one talk's step from a choice to its next, weighted by the talks that took it."""
    names: dict[str, int] = {}
    labels: list[str] = []
    questions: list[str] = []

    def node(key: str, label: str, question: str) -> int:
        if key not in names:
            names[key] = len(labels)
            labels.append(label)  # whole: the page wraps and shortens it to its room
            questions.append(f"{html.escape(question)}<br>{html.escape(label)}")
        return names[key]

    links: Counter[tuple[int, int]] = Counter()
    for talk in talks:
        seen: Counter[str] = Counter()
        indices = []
        for pick in talk.picks:
            seen[pick.scene] += 1
            visit = "" if seen[pick.scene] == 1 else f"#{seen[pick.scene]}"
            indices.append(node(f"{pick.scene}{visit}:{pick.label}", pick.label, pick.question))
        ending = story.by_id[talk.stop].title
        if talk.ended:
            indices.append(node(f"end:{talk.stop}", ending, "The end"))
        else:
            indices.append(node(f"stop:{talk.stop}", f"{ending} (stopped)", "Stopped here"))
        for here, there in itertools.pairwise(indices):
            links[(here, there)] += 1
    ordered = sorted(links.items())
    return Flow(
        labels=tuple(labels),
        sources=tuple(source for (source, _), _ in ordered),
        targets=tuple(target for (_, target), _ in ordered),
        values=tuple(count for _, count in ordered),
        hovers=tuple(
            f"{html.escape(labels[source])} → {html.escape(labels[target])}: "
            f"{count} talk{'' if count == 1 else 's'}"
            for (source, target), count in ordered
        ),
        questions=tuple(questions),
        columns=tuple(columns(len(labels), [pair for pair, _ in ordered])),
    )


def sankey_figure(story: Story, talks: list[TalkPath]) -> dict:
    """The Plotly figure (plain JSON) of every talk's way through ``story``: labels whole,
    DRAW_SCRIPT fits them to the room the page gives them."""
    data = flow(story, talks)
    fullest = max(Counter(data.columns).values(), default=1)
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {
                    "label": list(data.labels),
                    "customdata": list(data.questions),
                    "hovertemplate": "%{customdata}: %{value} talks<extra></extra>",
                    "pad": NODE_PAD,
                    "thickness": 16,
                    "color": "#3b5b92",
                },
                "link": {
                    "source": list(data.sources),
                    "target": list(data.targets),
                    "value": list(data.values),
                    "customdata": list(data.hovers),
                    "hovertemplate": "%{customdata}<extra></extra>",
                    "color": "rgba(59, 91, 146, 0.35)",
                },
            }
        ],
        "layout": {
            "title": {"text": f"Every audience's path: {story.title}"},
            "font": {"size": 12},
            "margin": {"l": 20, "r": 20, "t": 50, "b": 20},
            "height": max(600, 100 + fullest * ROW_HEIGHT),
        },
    }


@functools.cache
def plotly_js() -> str:
    """plotly.js as shipped inside the ``plotly`` package: the page loads nothing else."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def comparison_page(
    story: Story, talks: list[TalkPath], plotly_src: str | None = None, script_src: str = ""
) -> str:
    """The Sankey page as HTML. ``plotly_src``: a URL for plotly.js (the vote server serves
    it); None inlines it, for a single file that works offline. ``script_src``: a URL for
    the script that draws the figure (None inlines it too)."""
    figure = json.dumps(sankey_figure(story, talks)).replace("<", "\\u003c")  # inside <script>
    return (
        _environment()
        .get_template("compare.html")
        .render(
            story=story,
            talks=talks,
            title=lambda scene_id: story.by_id[scene_id].title,
            figure=figure,
            plotly_src=plotly_src,
            plotly_inline=None if plotly_src else plotly_js(),
            script_src=script_src,
            draw_script=DRAW_SCRIPT,
        )
    )


# Draws the figure, then fits every node's label to the room it has: Plotly writes a label
# right of its node, into the gap before the next column, except in the last column, where
# it writes it left, into the gap the column before also writes into; so the last gap is
# shared. A label is wrapped at words onto two lines (three in the shared gap: half as
# wide; a word too long for a line is split with a hyphen) that fit its share of its gap, cut
# with an ellipsis past that (its node's hover shows it whole), and where labels of one
# column still meet (thin nodes side by side), the nodes are spaced further apart. Again on
# every resize: the room changes with the window.
DRAW_SCRIPT = r"""(function () {
  var el = document.getElementById("sankey"), spec = document.getElementById("figure");
  if (!el || !spec) return;
  if (!window.Plotly) {
    el.textContent = "The diagram needs plotly where this page was made " +
      "(pip install 'cyoa[deck]'); each talk's path is listed below.";
    return;
  }
  var figure = JSON.parse(spec.textContent);
  var whole = figure.data[0].node.label.slice();
  var GAP = 6, TRIES = 6;
  var canvas = document.createElement("canvas").getContext("2d");

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // The text on at most `most` lines no wider than width px, cut at words (a word wider
  // than a line is split with a hyphen); an ellipsis ends what does not fit.
  function wrap(text, width, most) {
    var wide = function (line) { return canvas.measureText(line).width > width; };
    var words = text.split(/\s+/).filter(Boolean), lines = [];
    while (words.length && lines.length < most) {
      var line = words.shift();
      if (wide(line)) {
        var keep = line.length - 1;
        while (keep > 1 && wide(line.slice(0, keep) + "-")) keep--;
        words.unshift(line.slice(keep));
        line = line.slice(0, keep) + "-";
      }
      while (words.length && !wide(line + " " + words[0])) line += " " + words.shift();
      lines.push(line);
    }
    if (words.length) {
      var last = lines[lines.length - 1].replace(/-$/, "");
      while (last.length > 1 && wide(last + "\u2026")) last = last.slice(0, -1).trimEnd();
      lines[lines.length - 1] = last + "\u2026";
    }
    return lines.map(escape).join("<br>");
  }

  function nodes() {
    return Array.prototype.map.call(el.querySelectorAll(".sankey-node"), function (g, i) {
      var datum = g.__data__ && g.__data__.node;
      var label = g.querySelector(".node-label");
      return {
        index: datum && typeof datum.pointNumber === "number" ? datum.pointNumber : i,
        box: g.querySelector(".node-rect").getBoundingClientRect(),
        label: label,
        left: label.getAttribute("text-anchor") === "end",
      };
    });
  }

  function widestWord(text) {
    return Math.max.apply(null, text.split(/\s+/).map(function (word) {
      return canvas.measureText(word).width;
    }));
  }

  // Each node's label, wrapped to its share of the gap beside it. The shared gap is split
  // so each side's longest word fits when it can, the rest half and half.
  function labelsFor(shown) {
    var plot = el.querySelector(".main-svg").getBoundingClientRect();
    var lefts = [], rights = [], leftward = {};
    shown.forEach(function (n) {
      var x = Math.round(n.box.left);
      if (lefts.indexOf(x) < 0) { lefts.push(x); rights.push(n.box.right); }
      if (n.left) leftward[x] = true;
    });
    var order = lefts.slice().sort(function (a, b) { return a - b; });
    var rightOf = function (x) { return rights[lefts.indexOf(x)]; };
    var place = shown.map(function (n) {
      var column = order.indexOf(Math.round(n.box.left));
      var before = order[column - 1], after = order[column + 1];
      canvas.font = getComputedStyle(n.label).font;
      if (n.left) {
        var sharedLeft = before !== undefined;
        var gapLeft = sharedLeft ? n.box.left - rightOf(before) : n.box.left - plot.left;
        return {n: n, gap: gapLeft, shared: sharedLeft, word: widestWord(whole[n.index])};
      }
      var sharedRight = after !== undefined && !!leftward[after];
      var gapRight = after === undefined ? plot.right - n.box.right : after - n.box.right;
      return {n: n, gap: gapRight, shared: sharedRight, word: widestWord(whole[n.index])};
    });
    var need = {true: 0, false: 0};  // the longest word each side of the shared gap
    place.forEach(function (p) {
      if (p.shared) need[p.n.left] = Math.max(need[p.n.left], p.word);
    });
    var labels = whole.slice();
    place.forEach(function (p) {
      var room = p.gap - GAP;
      if (p.shared) {
        var space = p.gap - 2 * GAP, spare = space - need[true] - need[false];
        room = spare >= 0 ? need[p.n.left] + spare / 2 : space / 2;
      }
      canvas.font = getComputedStyle(p.n.label).font;
      labels[p.n.index] = wrap(whole[p.n.index], Math.max(room, 24), p.shared ? 3 : 2);
    });
    return labels;
  }

  function overlapping(shown) {
    var boxes = shown.map(function (n) { return n.label.getBoundingClientRect(); });
    for (var i = 0; i < boxes.length; i++) {
      for (var j = i + 1; j < boxes.length; j++) {
        var a = boxes[i], b = boxes[j];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
          return true;
        }
      }
    }
    return false;
  }

  var fitting = null;
  function fit() {
    var node = figure.data[0].node, layout = figure.layout, tries = 0;
    var step = function () {
      var shown = nodes();
      if (!shown.length) return null;
      if (!overlapping(shown) || tries++ >= TRIES) return null;
      node.pad = Math.round(node.pad * 1.5);  // the labels of one column meet: space them
      layout.height = Math.round(layout.height * 1.25);
      return window.Plotly.react(el, figure.data, layout, config).then(relabel).then(step);
    };
    var relabel = function () {
      node.label = labelsFor(nodes());
      return window.Plotly.react(el, figure.data, layout, config);
    };
    return relabel().then(step);
  }

  function refit() {
    el.removeAttribute("data-drawn");
    fitting = (fitting || Promise.resolve()).then(fit).catch(function (error) {
      console.error("the diagram's labels could not be fitted", error);  // still drawn
    }).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  }

  var config = {responsive: true, displaylogo: false};
  window.Plotly.newPlot(el, figure.data, figure.layout, config).then(refit);
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(refit, 150);  // once the window stopped changing size
  });
})();
"""
