"""Monitoring: the prediction log, feedback, reference profiles, drift, performance, alerts and reports.

Modules: `records` (what is logged), `log` (the database-backed prediction log and its batching sink),
`feedback`, `profiles` (reference profiles), `references` (their storage), `drift`, `multivariate`,
`performance`, `health`, `alerts/`, `report`, and `service` (one facade used by HTTP, CLI and Python).
"""
