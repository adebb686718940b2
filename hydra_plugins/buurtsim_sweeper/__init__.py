"""Hydra plugins of buurtsim."""
