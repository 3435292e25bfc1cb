"""Assignments: work students hand in and people grade, with due dates, late penalties and rubrics."""
