"""Storage adapters: the content-addressed artifact store, safe archives and the database."""
