"""The coordinators' web overview: a Starlette app with Jinja2 templates, no JavaScript."""
