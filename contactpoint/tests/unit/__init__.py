"""Pure unit tests: no database, no Django settings (run with -p no:django)."""
