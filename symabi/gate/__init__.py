"""``symabi gate``: check the host→Go entry points of a live Go tree, and the shipped cases, against a baseline.

build.py assembles the tree as its Go build does; registry.toml (read by registry.py) names the entry
points; run.py proves and judges; baseline.py reads and writes accepted verdicts; render.py prints.
"""
