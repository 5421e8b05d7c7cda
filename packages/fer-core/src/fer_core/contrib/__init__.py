"""Optional plugins that ship with fer-core and load through the ``fer`` entry points."""
