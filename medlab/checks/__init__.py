"""Exercise checks, one module per chapter (``ch01.py`` …); see :mod:`medlab.teach`."""
