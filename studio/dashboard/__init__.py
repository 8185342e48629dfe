"""The workspace dashboard: an interface that reads drafts, experiments and usage.

It sits with the other interfaces (nothing below imports it); `board.py` holds the reads and
charts, `views.py` the page.
"""
