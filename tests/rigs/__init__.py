"""Test rigs: loopback servers, emulators and synthetic workspaces (not shipped with the package)."""
