"""The guest list of an invitation-only seminar: invitees, personal invitations, reminders and answers."""
