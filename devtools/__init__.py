"""Development-only tools: the embedded stack behind `make run`, and a local SMTP catcher."""
