"""The database layer: aliases (`config`), the router (`router`), read pinning (`pinning`) and pools (`pools`)."""
