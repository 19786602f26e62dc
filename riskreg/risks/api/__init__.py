"""The risk register API, one module per part of the workflow."""
