"""Reads of the improvement domain by area, each shaped for a fixed number of indexed queries.

Every read that lists records narrows them through `improvement.scope`; every action state comes
from `improvement.rulebook`.
"""
