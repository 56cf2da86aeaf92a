"""Roster import and export: a term's people from the registrar's spreadsheet, and back."""
