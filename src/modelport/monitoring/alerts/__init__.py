"""Alerts: rules over monitored values, their evaluation on a schedule, and where they are sent."""
