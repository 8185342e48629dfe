"""Drafts views, one module per page family: workspace (the workspace and draft pages),
generations (watching, following up and stopping a generation), sections, suggestions,
editor (the editor, its sessions and preview), versions (list, compare, export, share) and
trash."""
