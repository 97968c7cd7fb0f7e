"""The portal's rules, one module per area; each function runs inside the caller's transaction."""
