"""Users, roles and their sites."""
