"""Pure numeric assessments: arrays in, frozen dataclasses out; no Django anywhere."""
