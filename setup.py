"""Package discovery: the card's three top-level folders install under the ``cyoa`` name.

``story/`` installs as ``cyoa.story``, ``voteserver/`` as ``cyoa.voteserver`` and
``notebooks/`` as ``cyoa.notebooks`` (``package-dir`` in pyproject.toml maps them), so the
wheel puts one name in site-packages and never shadows PyPI's unrelated ``story`` package.
Everything else lives in pyproject.toml; ``packages`` is here because pyproject.toml can
either discover packages or list them, not both.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["cyoa", "cyoa.*"]),
        *(f"cyoa.{name}" for name in find_namespace_packages(include=["story*", "voteserver*"])),
        "cyoa.notebooks",
    ]
)
