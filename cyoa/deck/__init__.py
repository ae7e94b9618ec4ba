"""The deck the audience steers: a talk state machine, a vote-server client and widgets."""

from cyoa.deck.client import VoteClient
from cyoa.deck.machine import Step, Talk, Tally, poll_id

__all__ = ["Deck", "Step", "Talk", "Tally", "VoteClient", "load_story", "poll_id"]


def __getattr__(name: str) -> object:
    """``Deck`` and ``load_story`` import ipywidgets and plotly: only when asked for."""
    if name in ("Deck", "load_story"):
        from cyoa.deck import deck

        return getattr(deck, name)
    raise AttributeError(name)
