"""Open311 GeoReport v2 at /open311/v2/, mapped onto the appeals part: the same cases,
the same scope and routing, no second store."""
