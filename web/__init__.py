"""What Herald serves to browsers: the operators' dashboard and the inbox widget's script, with
their templates and static files (web/static/, served as they are: no build step)."""
