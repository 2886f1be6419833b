"""Tests that need PostgreSQL (pytest-django, real migrations)."""
