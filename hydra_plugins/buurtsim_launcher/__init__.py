"""Hydra launcher of buurtsim: ``hydra/launcher=forked`` (the default of conf/config.yaml)."""
