"""The notebooks' interactive widgets (ipywidgets 8).

Modules:

- :mod:`~specnb.ui.explorer` -- the representation explorer of notebook 01.
- :mod:`~specnb.ui.eps_explorer` -- the ε explorer of notebook 03.
"""
