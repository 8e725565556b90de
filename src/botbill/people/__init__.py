"""People who sign in: members and platform operators, their passwords, console sessions
and invitations."""
