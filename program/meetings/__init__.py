"""Meetings: times proposed by the one who writes first, accepted in one click by the partner,
and the iCalendar invitation that puts the agreed time on both calendars."""
