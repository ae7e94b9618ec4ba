"""Package discovery, plus the repository's ``notebooks/`` shipped as ``cyoa.notebooks``.

Everything else lives in pyproject.toml. ``packages`` is here because pyproject.toml can
either discover packages or list them, not both: the three folders are discovered (with their
data folders), and the notebooks folder, mapped by ``package-dir`` in pyproject.toml, is added.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["cyoa*", "voteserver*", "story*"]),
        "cyoa.notebooks",
    ]
)
