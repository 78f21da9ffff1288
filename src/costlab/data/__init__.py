"""Prompt and teacher-data files."""
