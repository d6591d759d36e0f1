"""The notebooks' interactive widgets (ipywidgets 8).

Modules:

- :mod:`~specnb.ui.explorer` -- the representation explorer of notebook 01.
- :mod:`~specnb.ui.eps_explorer` -- the ε explorer of notebook 03.
- :mod:`~specnb.ui.eps_attacks` -- the ε explorer's attacks and budgets, and the clip it opens on.
"""
