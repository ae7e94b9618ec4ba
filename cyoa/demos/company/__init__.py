"""The company's own small Flask app, as it sits in its git repository.

These files are copied into a throwaway git repository (see :mod:`cyoa.demos.app`) that
the demos clone and deploy; they import each other as top-level modules (``wsgi``,
``company``, ``storage``, ``tasks``), like any small app run from its own directory.
"""
