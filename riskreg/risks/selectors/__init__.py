"""Reads of the risk register, scoped to the actor's organisation."""
