"""Pieces every benchmark shares: saved models, wrk runs, server processes, results, report and charts."""
