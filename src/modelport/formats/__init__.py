"""Model formats: one adapter module per format behind the protocol in `formats.base`."""
