"""Semester reports in the app: who may see which, the page, the downloads, `flask report`."""
