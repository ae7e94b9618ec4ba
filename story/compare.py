"""Every audience of one story, compared: which way each talk went at each decision.

``cyoa results --all`` and the vote server's ``/results/all`` page both draw from here: a
Plotly Sankey diagram of the paths all talks took (decision by decision, each link as wide
as the number of talks that went that way) and each talk's own path. Plotly's JavaScript
comes from the ``plotly`` package itself, so the page needs no network.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cyoa.story.model import Story
from cyoa.story.results import Results

TEMPLATES = Path(__file__).resolve().parent / "templates"
LABEL_CHARS = 26  # a node's label on the diagram (the whole of it shows on hover)


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
            short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
            labels.append(short)
            questions.append(f"{question}<br>{label}")
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
            f"{labels[source]} → {labels[target]}: {count} talk{'' if count == 1 else 's'}"
            for (source, target), count in ordered
        ),
        questions=tuple(questions),
    )


def sankey_figure(story: Story, talks: list[TalkPath]) -> dict:
    """The Plotly figure (plain JSON) of every talk's way through ``story``."""
    data = flow(story, talks)
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {
                    "label": list(data.labels),
                    "customdata": list(data.questions),
                    "hovertemplate": "%{customdata}: %{value} talks<extra></extra>",
                    "pad": 18,
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
            "height": 600,
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


DRAW_SCRIPT = """(function () {
  var el = document.getElementById("sankey"), spec = document.getElementById("figure");
  if (!el || !spec) return;
  if (!window.Plotly) {
    el.textContent = "The diagram needs plotly where this page was made " +
      "(pip install 'cyoa[deck]'); each talk's path is listed below.";
    return;
  }
  var figure = JSON.parse(spec.textContent);
  window.Plotly.newPlot(el, figure.data, figure.layout, {responsive: true, displaylogo: false})
    .then(function () { el.setAttribute("data-drawn", "true"); });
})();
"""
