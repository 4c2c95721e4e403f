"""Sites, patients, identifiers and ketamine administrations."""
