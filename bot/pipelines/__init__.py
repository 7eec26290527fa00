"""The pipeline file: reading TOML, checking it with key paths, loading it into the domain."""
