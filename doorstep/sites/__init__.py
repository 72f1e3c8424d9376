"""Service sites at every level, opening hours, rooms and bookings, service requests, partners and the 15-minute circle."""
