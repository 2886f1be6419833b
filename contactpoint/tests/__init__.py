"""Tests of the project package: crypto, settings, management commands."""
