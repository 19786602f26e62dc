"""The verdict engine: pure functions from rules, policy and evidence to verdicts.

No Django here, as in evaluations/assessments/: the services in controls/services/ load
the rows, turn them into the plain values below and store what comes back. docs/posture.md
is the specification this package follows.
"""
