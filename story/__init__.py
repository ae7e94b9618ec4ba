"""The branching story: its model, loader, checker and static export."""

from story.checker import check_story, summarize
from story.demos import known_demos
from story.loader import default_story_path, load_story
from story.model import Choice, Ending, Option, Scene, Story
from story.paths import enumerate_paths
from story.problems import Problem, StoryError

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
