"""Security services: API keys and scopes, rate limits, safe URL fetching, log sanitising."""
