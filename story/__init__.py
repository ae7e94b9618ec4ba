"""The branching story: its model, loader, checker and static export."""

from cyoa.story.checker import check_story, summarize
from cyoa.story.demos import known_demos
from cyoa.story.loader import default_story_path, load_story
from cyoa.story.model import Choice, Ending, Option, Scene, Story
from cyoa.story.paths import enumerate_paths
from cyoa.story.problems import Problem, StoryError

__all__ = [
    "Choice",
    "Ending",
    "Option",
    "Problem",
    "Scene",
    "Story",
    "StoryError",
    "check_story",
    "default_story_path",
    "enumerate_paths",
    "known_demos",
    "load_story",
    "summarize",
]
