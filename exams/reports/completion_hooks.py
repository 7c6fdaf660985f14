"""Admin URLs and Reports menu items of this report family (see exams/reports/menu.py)."""
