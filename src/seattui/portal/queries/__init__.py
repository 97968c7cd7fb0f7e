"""The portal's stored data as the services read it: one module per area, with that area's
queries and row mappers. A service reads another area through these modules, never through
the other area's service; they import no service, so no import cycle can run through them."""
