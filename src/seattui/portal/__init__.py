"""The license portal: the API, the rules in its services, and the store."""
