"""The server front end: REST handlers over the core facade."""
