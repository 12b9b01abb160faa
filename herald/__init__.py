"""Herald: cross-cutting pieces (settings, command line, development stack)."""
