"""The workshop app: a client of the model (``sim``) and of the experiments' config composition.

``workshop.app`` is the Solara page (``solara run workshop/app.py``); ``workshop.render`` draws the
map, chat, plots and tables as HTML/SVG strings, without Solara.
"""
