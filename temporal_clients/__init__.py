"""Starting, signalling, updating and querying Herald's workflows and Schedules: the only code
outside workflows/ that knows how."""
