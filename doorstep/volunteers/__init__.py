"""Volunteer teams, posts and activities, sign-up, check-in/out, hours and star levels."""
