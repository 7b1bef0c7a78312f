"""People, sign-in and roles."""
