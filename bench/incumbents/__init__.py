"""Serving side by side: modelport against MLflow, BentoML, MLServer and the floors, under wrk."""
