"""Writes to the risk register, one module per part of the workflow."""
