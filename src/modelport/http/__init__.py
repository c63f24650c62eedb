"""The HTTP entry point: `create_app` (in `modelport.http.app`) and the server runner."""
