"""The notebooks shipped in the wheel, importable as ``cyoa.notebooks``.

They stay here, at the repository's ``notebooks/`` (the project's layout); ``setup.py`` maps
this folder onto ``cyoa.notebooks``, so an installed cyoa finds them with importlib.resources
(``cyoa.shipped``). A regular package rather than a namespace one, because setuptools'
editable install cannot map a nested namespace package onto another folder.
"""
