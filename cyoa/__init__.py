"""cyoa: choose-your-own-adventure talks. The console command lives in :mod:`cyoa.cli`."""

__version__ = "0.1.0"
