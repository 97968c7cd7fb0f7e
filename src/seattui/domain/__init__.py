"""The domain: models, enums, key format, prices and rules. Pure: no I/O, no framework."""
