"""Teacher data generation."""
