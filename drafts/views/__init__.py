"""Drafts views, one module per page family: workspace (the workspace and draft pages),
generations (watching, following up and stopping a generation), sections, suggestions,
versions (list, edit, compare, export, share) and trash."""
